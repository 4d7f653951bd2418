//! The deploy configuration: samconfig.toml's environments and the deploy workflow agree
//! with template.yaml. `sam validate --config-env` does not look at parameter overrides,
//! and a name the template does not declare fails only at deploy time.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn samconfig() -> toml::Table {
    let text = std::fs::read_to_string(root().join("samconfig.toml")).expect("samconfig.toml");
    text.parse().expect("samconfig.toml is TOML")
}

fn template_parameters() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let template: serde_yaml::Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    template["Parameters"]
        .as_mapping()
        .expect("the template declares parameters")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect()
}

fn deploy(config: &toml::Table, env: &str) -> toml::Table {
    config[env]["deploy"]["parameters"]
        .as_table()
        .unwrap_or_else(|| panic!("[{env}.deploy.parameters] missing"))
        .clone()
}

/// `Name=value` pairs of an environment's parameter_overrides.
fn overrides(config: &toml::Table, env: &str) -> Vec<(String, String)> {
    deploy(config, env)["parameter_overrides"]
        .as_array()
        .unwrap_or_else(|| panic!("{env}: parameter_overrides is a list"))
        .iter()
        .map(|pair| {
            let pair = pair.as_str().expect("overrides are strings");
            let (name, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{pair}: not Name=value"));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn dev_and_prod_are_separate_stacks_with_separate_secrets() {
    let config = samconfig();
    let stack = |env: &str| {
        config[env]["global"]["parameters"]["stack_name"]
            .as_str()
            .map(str::to_owned)
    };
    let (dev, prod) = (
        stack("dev").expect("dev stack"),
        stack("prod").expect("prod stack"),
    );
    assert_ne!(dev, prod);
    let secrets = |env: &str| -> BTreeSet<String> {
        overrides(&config, env)
            .into_iter()
            .filter(|(name, _)| name.ends_with("SecretName"))
            .map(|(_, value)| value)
            .collect()
    };
    assert_eq!(secrets("dev").len(), 3, "dev names its three secrets");
    assert!(
        secrets("dev").is_disjoint(&secrets("prod")),
        "dev and prod share a secret"
    );
    assert_eq!(deploy(&config, "prod")["confirm_changeset"].as_bool(), Some(true));
}

#[test]
fn every_override_names_a_template_parameter() {
    let config = samconfig();
    let parameters = template_parameters();
    for env in ["dev", "prod"] {
        for (name, _) in overrides(&config, env) {
            assert!(
                parameters.contains(&name),
                "{env} overrides {name}, which template.yaml does not declare"
            );
        }
    }
}

#[test]
fn the_deploy_workflow_deploys_only_environments_samconfig_defines() {
    let text = std::fs::read_to_string(root().join(".github/workflows/deploy.yml")).expect("deploy workflow");
    let workflow: serde_yaml::Value = serde_yaml::from_str(&text).expect("deploy.yml is YAML");
    let deploy_job = &workflow["jobs"]["deploy"];
    assert_eq!(
        deploy_job["needs"].as_str(),
        Some("test"),
        "deploys only after the tests pass"
    );
    assert_eq!(
        deploy_job["permissions"]["id-token"].as_str(),
        Some("write"),
        "OIDC needs id-token"
    );
    let config = samconfig();
    let named: Vec<&str> = ["dev", "prod"]
        .into_iter()
        .filter(|env| text.contains(&format!("'{env}'")))
        .collect();
    assert_eq!(named, ["dev", "prod"], "the workflow picks dev or prod");
    for env in named {
        assert!(
            config.contains_key(env),
            "samconfig.toml has no [{env}] environment"
        );
    }
    assert!(
        text.contains("--config-env"),
        "sam deploy reads the environment from samconfig.toml"
    );
}
