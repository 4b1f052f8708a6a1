//! Applies every pending migration to `DATABASE_URL` (the same as `jobcollector migrate`).

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::Database;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL must be set")?;
    let db = Database::connect(&url).await?;
    Migrator::up(&db, None).await?;
    println!("migrations applied");
    Ok(())
}
