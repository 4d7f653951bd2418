//! `AWS::DynamoDB::Table`: keys, attribute definitions, indexes, billing, stream, TTL.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex,
    Projection, ProjectionType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification,
    StreamViewType, TableDescription, TimeToLiveSpecification, TimeToLiveStatus,
};
use serde::Deserialize;
use serde_yaml::Value;

use super::Created;
use super::flexible::{Flag, Number};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableProperties {
    table_name: Option<String>,
    #[serde(default)]
    attribute_definitions: Vec<Attribute>,
    #[serde(default)]
    key_schema: Vec<Key>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<Throughput>,
    #[serde(default)]
    global_secondary_indexes: Vec<Index>,
    #[serde(default)]
    local_secondary_indexes: Vec<Index>,
    stream_specification: Option<Stream>,
    time_to_live_specification: Option<Ttl>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
struct Key {
    attribute_name: String,
    key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Throughput {
    read_capacity_units: Number,
    write_capacity_units: Number,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Index {
    index_name: String,
    key_schema: Vec<Key>,
    #[serde(default)]
    projection: Option<IndexProjection>,
    provisioned_throughput: Option<Throughput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexProjection {
    projection_type: Option<String>,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stream {
    stream_view_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ttl {
    attribute_name: Option<String>,
    enabled: Flag,
}

pub(super) async fn ensure(
    client: &Client,
    logical_id: &str,
    properties: &Value,
    default_name: String,
) -> Result<Created> {
    let props: TableProperties = serde_yaml::from_value(properties.clone())
        .map_err(|e| Error::Template(format!("Resources.{logical_id}.Properties: {e}")))?;
    let name = props.table_name.clone().unwrap_or(default_name);

    let table = match describe(client, &name).await? {
        Some(existing) => {
            check_same_shape(logical_id, &props, &existing)?;
            existing
        }
        None => create(client, logical_id, &name, &props).await?,
    };
    if let Some(ttl) = &props.time_to_live_specification {
        ensure_ttl(client, logical_id, &name, ttl).await?;
    }
    Ok(Created {
        physical_name: name,
        arn: table.table_arn().map(str::to_owned),
        url: None,
        stream_arn: table.latest_stream_arn().map(str::to_owned),
        created: true,
    })
}

async fn describe(client: &Client, name: &str) -> Result<Option<TableDescription>> {
    match client.describe_table().table_name(name).send().await {
        Ok(out) => Ok(out.table),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::aws(format!("DescribeTable {name}"), e)),
    }
}

async fn create(
    client: &Client,
    logical_id: &str,
    name: &str,
    props: &TableProperties,
) -> Result<TableDescription> {
    let built = |e: BuildError| Error::Template(format!("Resources.{logical_id}: {e}"));
    let mut request = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(
            props
                .attribute_definitions
                .iter()
                .map(|a| {
                    AttributeDefinition::builder()
                        .attribute_name(&a.attribute_name)
                        .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                        .build()
                })
                .collect::<Result<_, _>>()
                .map_err(built)?,
        ))
        .set_key_schema(Some(key_schema(&props.key_schema).map_err(built)?));
    if let Some(mode) = &props.billing_mode {
        request = request.billing_mode(BillingMode::from(mode.as_str()));
    }
    if let Some(t) = &props.provisioned_throughput {
        request = request.provisioned_throughput(throughput(t).map_err(built)?);
    }
    for index in &props.global_secondary_indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(&index.index_name)
            .set_key_schema(Some(key_schema(&index.key_schema).map_err(built)?))
            .projection(projection(index.projection.as_ref()));
        if let Some(t) = &index.provisioned_throughput {
            gsi = gsi.provisioned_throughput(throughput(t).map_err(built)?);
        }
        request = request.global_secondary_indexes(gsi.build().map_err(built)?);
    }
    for index in &props.local_secondary_indexes {
        let lsi = LocalSecondaryIndex::builder()
            .index_name(&index.index_name)
            .set_key_schema(Some(key_schema(&index.key_schema).map_err(built)?))
            .projection(projection(index.projection.as_ref()))
            .build()
            .map_err(built)?;
        request = request.local_secondary_indexes(lsi);
    }
    if let Some(stream) = &props.stream_specification {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(stream.stream_view_type.as_str()))
                .build()
                .map_err(built)?,
        );
    }
    let out = request
        .send()
        .await
        .map_err(|e| Error::aws(format!("CreateTable {name}"), e))?;
    out.table_description.ok_or_else(|| Error::Aws {
        action: format!("CreateTable {name}"),
        message: "no table description in the response".into(),
    })
}

/// An existing table whose keys, indexes or stream differ from the template cannot be
/// fixed in place; say so instead of running against a stale table.
fn check_same_shape(logical_id: &str, props: &TableProperties, table: &TableDescription) -> Result<()> {
    let drift = |what: &str| Error::Drift {
        resource: logical_id.to_owned(),
        what: what.to_owned(),
    };
    let keys: Vec<Key> = table
        .key_schema()
        .iter()
        .map(|k| Key {
            attribute_name: k.attribute_name().to_owned(),
            key_type: k.key_type().as_str().to_owned(),
        })
        .collect();
    if keys != props.key_schema {
        return Err(drift("key schema"));
    }
    let mut existing: Vec<&str> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    let mut wanted: Vec<&str> = props
        .global_secondary_indexes
        .iter()
        .map(|i| i.index_name.as_str())
        .collect();
    existing.sort_unstable();
    wanted.sort_unstable();
    if existing != wanted {
        return Err(drift("set of global secondary indexes"));
    }
    let existing_stream = table
        .stream_specification()
        .filter(|s| s.stream_enabled())
        .and_then(|s| s.stream_view_type())
        .map(|v| v.as_str().to_owned());
    let wanted_stream = props
        .stream_specification
        .as_ref()
        .map(|s| s.stream_view_type.clone());
    if existing_stream != wanted_stream {
        return Err(drift("stream specification"));
    }
    Ok(())
}

async fn ensure_ttl(client: &Client, logical_id: &str, name: &str, ttl: &Ttl) -> Result<()> {
    let current = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| Error::aws(format!("DescribeTimeToLive {name}"), e))?;
    let current = current.time_to_live_description();
    let enabled_now = current
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    let attribute_now = current.and_then(|d| d.attribute_name());
    let wanted = ttl.enabled.0;
    if wanted == enabled_now && (!wanted || attribute_now == ttl.attribute_name.as_deref()) {
        return Ok(());
    }
    let attribute = ttl.attribute_name.as_deref().or(attribute_now).ok_or_else(|| {
        Error::Template(format!(
            "Resources.{logical_id}.Properties.TimeToLiveSpecification needs an AttributeName"
        ))
    })?;
    let spec = TimeToLiveSpecification::builder()
        .enabled(wanted)
        .attribute_name(attribute)
        .build()
        .map_err(|e| Error::Template(format!("Resources.{logical_id}: {e}")))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| Error::aws(format!("UpdateTimeToLive {name}"), e))?;
    Ok(())
}

fn key_schema(keys: &[Key]) -> Result<Vec<KeySchemaElement>, BuildError> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
        })
        .collect()
}

fn throughput(t: &Throughput) -> Result<ProvisionedThroughput, BuildError> {
    ProvisionedThroughput::builder()
        .read_capacity_units(t.read_capacity_units.0)
        .write_capacity_units(t.write_capacity_units.0)
        .build()
}

fn projection(p: Option<&IndexProjection>) -> Projection {
    let Some(p) = p else {
        return Projection::builder().projection_type(ProjectionType::All).build();
    };
    let mut builder = Projection::builder();
    if let Some(kind) = &p.projection_type {
        builder = builder.projection_type(ProjectionType::from(kind.as_str()));
    }
    if !p.non_key_attributes.is_empty() {
        builder = builder.set_non_key_attributes(Some(p.non_key_attributes.clone()));
    }
    builder.build()
}
