//! What the local stack runs beside the emulator, started together against one
//! provisioned stack: the HTTP gateway, the event source mappings and the mailbox. The
//! Discord sink starts before provisioning (its URL is a template parameter), so it is
//! started on its own (`sink::Sink`). `make dev` and the end-to-end tests use this alike.

use std::path::PathBuf;
use std::sync::Arc;

use crate::emulator::sdk_config;
use crate::error::Result;
use crate::esm::{Checkpoints, Mappings};
use crate::gateway::{Gateway, Site};
use crate::hops::Hops;
use crate::invoke::Invoker;
use crate::mailbox::Mailbox;
use crate::provision::Provisioned;
use crate::timing::Timing;

#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// The gateway's port: None for no gateway, 0 for any free port.
    pub api_port: Option<u16>,
    /// The static site the gateway serves outside `/api/`.
    pub site: Site,
    /// Start the event source mappings.
    pub mappings: bool,
    /// Where mail goes: None for no mailbox.
    pub mailbox_dir: Option<PathBuf>,
    pub timing: Timing,
    pub hops: Hops,
    /// Stream shards that resume after a checkpoint instead of at `StartingPosition`.
    pub checkpoints: Checkpoints,
}

impl ServiceOptions {
    /// Everything on, on free ports, fast polling, hops kept quietly, the repository's
    /// site (`web/dist`, as built; the "being built" page without it): for tests.
    pub fn for_tests(mailbox_dir: Option<PathBuf>) -> ServiceOptions {
        ServiceOptions {
            api_port: Some(0),
            site: Site::repository().unwrap_or_else(|e| panic!("the site's headers: {e}")),
            mappings: true,
            mailbox_dir,
            timing: Timing::fast(),
            hops: Hops::quiet(),
            checkpoints: Checkpoints::new(),
        }
    }
}

pub struct Services {
    pub gateway: Option<Gateway>,
    pub mappings: Option<Mappings>,
    pub mailbox: Option<Mailbox>,
    pub hops: Hops,
}

impl Services {
    /// Starts what `options` asks for against the emulator at `endpoint`. Returns when
    /// all is ready: the gateway listens, every mapping is positioned, the mailbox has
    /// caught up.
    pub async fn start(
        endpoint: &str,
        provisioned: &Provisioned,
        invoker: Arc<dyn Invoker>,
        options: ServiceOptions,
    ) -> Result<Services> {
        let config = sdk_config(endpoint);
        let gateway = match options.api_port {
            Some(port) => Some(
                Gateway::start(
                    port,
                    provisioned,
                    Arc::clone(&invoker),
                    options.hops.clone(),
                    // the site's CSP lets the browser reach the emulator where the template
                    // names an AWS endpoint (the presigned upload URL's origin)
                    Site {
                        headers: options.site.headers.on_emulator(endpoint),
                        ..options.site
                    },
                )
                .await?,
            ),
            None => None,
        };
        let mappings = if options.mappings {
            Some(
                Mappings::start_at(
                    &config,
                    provisioned,
                    invoker,
                    options.hops.clone(),
                    options.timing,
                    &options.checkpoints,
                )
                .await?,
            )
        } else {
            None
        };
        let mailbox = match options.mailbox_dir {
            Some(dir) => Some(Mailbox::start(endpoint, dir, options.hops.clone(), options.timing).await?),
            None => None,
        };
        Ok(Services {
            gateway,
            mappings,
            mailbox,
            hops: options.hops,
        })
    }

    /// The HTTP API's base URL, `http://127.0.0.1:PORT/api`, when there is a gateway.
    pub fn api_url(&self) -> Option<String> {
        self.gateway.as_ref().map(Gateway::url)
    }

    /// The site's URL, `http://127.0.0.1:PORT/`, when there is a gateway.
    pub fn site_url(&self) -> Option<String> {
        self.gateway.as_ref().map(Gateway::site_url)
    }

    pub async fn stop(self) {
        if let Some(gateway) = self.gateway {
            gateway.stop().await;
        }
        if let Some(mappings) = self.mappings {
            mappings.stop().await;
        }
        if let Some(mailbox) = self.mailbox {
            mailbox.stop().await;
        }
    }
}
