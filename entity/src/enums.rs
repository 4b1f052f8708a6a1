//! Closed sets of values, stored as short lowercase strings so that Postgres and SQLite
//! hold them the same way.

use sea_orm::entity::prelude::*;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $text)] $variant,)+
        }

        impl $name {
            /// The stored text of this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }
        }
    };
}

text_enum! {
    /// What a user may do.
    Role { User = "user", Admin = "admin" }
}

text_enum! {
    /// Where a user's resume text came from: pasted, or read from an uploaded file.
    ResumeSource { Text = "text", Pdf = "pdf", Docx = "docx", Markdown = "markdown" }
}

text_enum! {
    /// Who created a search category.
    CategoryOrigin { Seed = "seed", Admin = "admin", Llm = "llm", Title = "title" }
}

text_enum! {
    /// Where a user's category assignment stands.
    AssignmentStatus { None = "none", Pending = "pending", Assigned = "assigned", Failed = "failed" }
}

text_enum! {
    /// How a user's category was chosen.
    AssignmentMethod { Keyword = "keyword", LlmExisting = "llm_existing", LlmNew = "llm_new", Title = "title", Fallback = "fallback" }
}

text_enum! {
    /// What produced a match score.
    ScoreMethod { Llm = "llm", Keyword = "keyword" }
}

text_enum! {
    /// What a tailored document is.
    DocumentKind { Resume = "resume", CoverLetter = "cover_letter" }
}

text_enum! {
    /// Where a tailored document stands: queued or being made, made, or given up on.
    DocumentStatus { Pending = "pending", Ready = "ready", Failed = "failed" }
}

text_enum! {
    /// The user's own status for a matched listing.
    MatchStatus { New = "new", Saved = "saved", Applied = "applied", Dismissed = "dismissed" }
}

text_enum! {
    /// What started a pipeline run.
    RunTrigger { Cli = "cli", Schedule = "schedule", Admin = "admin" }
}

text_enum! {
    /// Where a pipeline run stands; the last three are final.
    RunStatus { Queued = "queued", Running = "running", Succeeded = "succeeded", Partial = "partial", Failed = "failed" }
}

impl RunStatus {
    /// Whether the run has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Partial | Self::Failed)
    }
}
