//! What every request handler and resolver shares.

use std::sync::Arc;

use jobs::queue::Queue;
use sea_orm::DatabaseConnection;

use crate::auth::{LoginThrottle, TokenKeys};
use crate::config::Config;

/// Shared, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The SQLite file as opened, to notice it deleted or replaced; `None` on Postgres.
    pub db_file: Option<crate::db::DatabaseFile>,
    pub keys: TokenKeys,
    pub login_throttle: Arc<LoginThrottle>,
    /// Where background jobs are queued.
    pub queue: Queue,
    pub config: Arc<Config>,
}
