use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a model does and, for an embedding model, its native vector length (specs/embeddings.md, E-12):
/// `kind` — `chat` (every model before this migration, the default) or `embedding`; `dimensions` — nullable,
/// unknown when `NULL`.
///
/// One column per statement, each skipped when an earlier run that stopped half-way already added it
/// (SQLite alters one thing at a time; MySQL DDL is not transactional).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("models", "kind").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("models")
                        .add_column(string_len("kind", 16).default("chat"))
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("models", "dimensions").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("models")
                        .add_column(big_integer_null("dimensions"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["dimensions", "kind"] {
            if manager.has_column("models", column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table("models")
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
