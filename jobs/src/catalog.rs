//! Search categories: the source of truth for what is collected and what users are assigned to.
//!
//! Categories are never deleted; [`retire`] makes one inactive and keeps it for history.

use chrono::Utc;
use entity::{CategoryOrigin, CategorySlug, InvalidValue, StringList, search_category};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, prelude::*,
};

use crate::{Error, Result};

/// Longest category name.
pub const MAX_NAME_LEN: usize = 200;
/// Most search terms or keywords one category may have.
pub const MAX_LIST_ITEMS: usize = 50;
/// Longest single search term or keyword.
pub const MAX_ITEM_LEN: usize = 100;
/// Longest location.
pub const MAX_LOCATION_LEN: usize = 200;

/// A category to create, as a client sent it (not yet validated).
#[derive(Debug, Clone, Default)]
pub struct NewCategory {
    pub slug: String,
    pub name: String,
    /// Defaults to the name.
    pub search_terms: Option<Vec<String>>,
    /// Defaults to the lowercased name.
    pub keywords: Option<Vec<String>>,
    pub location: Option<String>,
}

/// Changes to a category; `None` leaves a field as it is. An empty location clears it.
#[derive(Debug, Clone, Default)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub search_terms: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub location: Option<String>,
    pub is_active: Option<bool>,
}

struct Default4 {
    slug: &'static str,
    name: &'static str,
    search_terms: &'static [&'static str],
    keywords: &'static [&'static str],
}

/// The categories every installation starts with.
const DEFAULTS: [Default4; 4] = [
    Default4 {
        slug: "software_engineer",
        name: "Software Engineer",
        search_terms: &[
            "software engineer",
            "backend developer",
            "full stack developer",
        ],
        keywords: &[
            "software engineer",
            "software developer",
            "software engineering",
            "backend engineer",
            "backend developer",
            "frontend engineer",
            "frontend developer",
            "full stack",
            "fullstack",
            "web developer",
            "programmer",
            "site reliability engineer",
            "devops engineer",
        ],
    },
    Default4 {
        slug: "data_scientist",
        name: "Data Scientist",
        search_terms: &["data scientist", "machine learning engineer"],
        keywords: &[
            "data scientist",
            "data science",
            "machine learning",
            "machine learning engineer",
            "ml engineer",
            "applied scientist",
            "research scientist",
            "statistician",
        ],
    },
    Default4 {
        slug: "mechanical_engineer",
        name: "Mechanical Engineer",
        search_terms: &["mechanical engineer", "mechanical design engineer"],
        keywords: &[
            "mechanical engineer",
            "mechanical engineering",
            "mechanical design",
            "design engineer",
            "manufacturing engineer",
            "hvac engineer",
            "solidworks",
            "cad",
        ],
    },
    Default4 {
        slug: "product_manager",
        name: "Product Manager",
        search_terms: &["product manager"],
        keywords: &[
            "product manager",
            "product management",
            "product owner",
            "technical product manager",
            "group product manager",
        ],
    },
];

/// The defaults as stored rows with ids 1 to 4, for unit tests of what reads categories.
#[cfg(test)]
pub(crate) fn default_models() -> Vec<search_category::Model> {
    let now = Utc::now();
    DEFAULTS
        .iter()
        .zip(1..)
        .map(|(d, id)| search_category::Model {
            id,
            slug: d.slug.parse().expect("a valid default slug"),
            name: d.name.to_owned(),
            search_terms: owned(d.search_terms),
            keywords: owned(d.keywords),
            location: None,
            is_active: true,
            origin: CategoryOrigin::Seed,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

fn owned(items: &[&str]) -> StringList {
    StringList(items.iter().map(|s| (*s).to_owned()).collect())
}

/// Inserts the default categories that are missing and returns how many it inserted.
///
/// Idempotent and safe to run from several processes at once: one
/// `INSERT … ON CONFLICT (slug) DO NOTHING`, so an existing category (even a retired or
/// renamed default) is left exactly as it is.
pub async fn seed_default_categories(db: &DatabaseConnection) -> Result<u64> {
    let now = Utc::now();
    let rows = DEFAULTS.iter().map(|d| {
        Ok(search_category::ActiveModel {
            slug: Set(d.slug.parse()?),
            name: Set(d.name.to_owned()),
            search_terms: Set(owned(d.search_terms)),
            keywords: Set(owned(d.keywords)),
            location: Set(None),
            is_active: Set(true),
            origin: Set(CategoryOrigin::Seed),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    });
    let rows = rows.collect::<Result<Vec<_>>>()?;
    let inserted = search_category::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([search_category::Column::Slug])
        .exec_without_returning(db)
        .await?;
    Ok(match inserted {
        sea_orm::TryInsertResult::Inserted(n) => n,
        _ => 0,
    })
}

/// Categories ordered by slug; inactive ones only when asked for.
pub async fn list(
    db: &DatabaseConnection,
    include_inactive: bool,
) -> Result<Vec<search_category::Model>> {
    let mut query = search_category::Entity::find().order_by_asc(search_category::Column::Slug);
    if !include_inactive {
        query = query.filter(search_category::Column::IsActive.eq(true));
    }
    Ok(query.all(db).await?)
}

/// How many categories assignments created (origin LLM or TITLE) since `since`.
pub async fn created_by_assignment_since(
    db: &DatabaseConnection,
    since: chrono::DateTime<Utc>,
) -> Result<u64> {
    Ok(search_category::Entity::find()
        .filter(search_category::Column::Origin.is_in([CategoryOrigin::Llm, CategoryOrigin::Title]))
        .filter(search_category::Column::CreatedAt.gte(since))
        .count(db)
        .await?)
}

/// The category with this slug, active or not.
pub async fn find(
    db: &DatabaseConnection,
    slug: &CategorySlug,
) -> Result<Option<search_category::Model>> {
    Ok(search_category::Entity::find()
        .filter(search_category::Column::Slug.eq(slug.clone()))
        .one(db)
        .await?)
}

/// The category with this id, if any (retired ones included).
pub async fn by_id(db: &DatabaseConnection, id: i64) -> Result<Option<search_category::Model>> {
    Ok(search_category::Entity::find_by_id(id).one(db).await?)
}

async fn find_existing(db: &DatabaseConnection, slug: &str) -> Result<search_category::Model> {
    let slug: CategorySlug = slug.parse()?;
    find(db, &slug)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no search category has the slug {slug}")))
}

/// Validates and creates a category. A taken slug is [`Error::Conflict`].
pub async fn add(
    db: &DatabaseConnection,
    new: NewCategory,
    origin: CategoryOrigin,
) -> Result<search_category::Model> {
    let slug: CategorySlug = new.slug.trim().parse()?;
    let name = clean_name(&new.name)?;
    let search_terms = match new.search_terms {
        Some(terms) => clean_list("searchTerms", terms)?,
        None => StringList(vec![name.clone()]),
    };
    let keywords = match new.keywords {
        Some(words) => clean_list("keywords", words)?,
        None => StringList(vec![name.to_lowercase()]),
    };
    let location = clean_location(new.location)?;
    let now = Utc::now();
    let row = search_category::ActiveModel {
        slug: Set(slug.clone()),
        name: Set(name),
        search_terms: Set(search_terms),
        keywords: Set(keywords),
        location: Set(location),
        is_active: Set(true),
        origin: Set(origin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    search_category::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| {
            Error::conflict_on_unique(
                e,
                format!("a search category with the slug {slug} already exists"),
            )
        })
}

/// Applies a patch to the category with this slug.
pub async fn update(
    db: &DatabaseConnection,
    slug: &str,
    patch: CategoryPatch,
) -> Result<search_category::Model> {
    let existing = find_existing(db, slug).await?;
    let mut row: search_category::ActiveModel = existing.into();
    if let Some(name) = patch.name {
        row.name = Set(clean_name(&name)?);
    }
    if let Some(terms) = patch.search_terms {
        row.search_terms = Set(clean_list("searchTerms", terms)?);
    }
    if let Some(words) = patch.keywords {
        row.keywords = Set(clean_list("keywords", words)?);
    }
    if let Some(location) = patch.location {
        row.location = Set(clean_location(Some(location))?);
    }
    if let Some(active) = patch.is_active {
        row.is_active = Set(active);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// Retires the category: inactive, kept for history and for the users assigned to it.
pub async fn retire(db: &DatabaseConnection, slug: &str) -> Result<search_category::Model> {
    update(
        db,
        slug,
        CategoryPatch {
            is_active: Some(false),
            ..Default::default()
        },
    )
    .await
}

fn clean_name(name: &str) -> Result<String, InvalidValue> {
    entity::check_plain_text("name", name)?;
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(InvalidValue::new("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(InvalidValue::new(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(name)
}

/// Trims each item, drops duplicates (case-insensitively), and enforces the size limits.
fn clean_list(field: &'static str, items: Vec<String>) -> Result<StringList, InvalidValue> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(InvalidValue::new(
            field,
            format!("must have at most {MAX_LIST_ITEMS} items"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        entity::check_plain_text(field, &item)?;
        let item = item.split_whitespace().collect::<Vec<_>>().join(" ");
        if item.is_empty() {
            return Err(InvalidValue::new(field, "items must not be empty"));
        }
        if item.chars().count() > MAX_ITEM_LEN {
            return Err(InvalidValue::new(
                field,
                format!("items must be at most {MAX_ITEM_LEN} characters"),
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
            out.push(item);
        }
    }
    if out.is_empty() {
        return Err(InvalidValue::new(field, "must have at least one item"));
    }
    Ok(StringList(out))
}

fn clean_location(location: Option<String>) -> Result<Option<String>, InvalidValue> {
    if let Some(l) = &location {
        entity::check_plain_text("location", l)?;
    }
    let Some(location) = location
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
    else {
        return Ok(None);
    };
    if location.chars().count() > MAX_LOCATION_LEN {
        return Err(InvalidValue::new(
            "location",
            format!("must be at most {MAX_LOCATION_LEN} characters"),
        ));
    }
    Ok(Some(location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_categories() {
        for d in &DEFAULTS {
            assert!(d.slug.parse::<CategorySlug>().is_ok(), "{}", d.slug);
            assert!(clean_list("searchTerms", owned(d.search_terms).0).is_ok());
            assert!(clean_list("keywords", owned(d.keywords).0).is_ok());
        }
    }

    #[test]
    fn lists_are_trimmed_deduplicated_and_bounded() {
        let list = clean_list(
            "keywords",
            vec![" Rust ".into(), "rust".into(), "go  lang".into()],
        )
        .expect("valid");
        assert_eq!(list.0, vec!["Rust", "go lang"]);
        assert!(clean_list("keywords", vec![]).is_err());
        assert!(clean_list("keywords", vec!["  ".into()]).is_err());
        assert!(clean_list("keywords", vec!["x".repeat(MAX_ITEM_LEN + 1)]).is_err());
        assert!(
            clean_list(
                "keywords",
                (0..=MAX_LIST_ITEMS).map(|i| format!("k{i}")).collect()
            )
            .is_err()
        );
    }

    #[test]
    fn names_are_required_and_bounded() {
        assert_eq!(
            clean_name("  Data   Engineer ").as_deref(),
            Ok("Data Engineer")
        );
        assert!(clean_name(" \t").is_err());
        assert!(clean_name(&"n".repeat(MAX_NAME_LEN + 1)).is_err());
    }
}
