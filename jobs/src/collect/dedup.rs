//! Global dedup by normalized (title, company), keeping every category that found a listing.

use std::collections::{BTreeSet, HashMap};

use entity::domain::normalize_text;

use crate::sources::RawListing;

/// A listing found by one or more categories.
#[derive(Debug, Clone)]
pub struct Found {
    pub listing: RawListing,
    pub categories: BTreeSet<i64>,
}

/// Merges listings with the same normalized title and company. The first one found is kept;
/// a later copy fills in a missing description, direct URL, date or salary.
#[derive(Debug, Default)]
pub struct Deduper {
    index: HashMap<(String, String), usize>,
    found: Vec<Found>,
}

impl Deduper {
    /// Adds a listing found by `category`.
    pub fn add(&mut self, listing: RawListing, category: i64) {
        let key = (
            normalize_text(&listing.title),
            normalize_text(&listing.company),
        );
        match self.index.get(&key) {
            Some(&i) => {
                let kept = &mut self.found[i];
                kept.categories.insert(category);
                fill_gaps(&mut kept.listing, listing);
            }
            None => {
                self.index.insert(key, self.found.len());
                self.found.push(Found {
                    listing,
                    categories: BTreeSet::from([category]),
                });
            }
        }
    }

    /// How many distinct listings so far.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The distinct listings, in the order first found.
    pub fn into_found(self) -> Vec<Found> {
        self.found
    }
}

fn fill_gaps(kept: &mut RawListing, other: RawListing) {
    if kept.description.as_deref().is_none_or(str::is_empty) {
        kept.description = other.description;
    }
    kept.job_url_direct = kept.job_url_direct.take().or(other.job_url_direct);
    kept.date_posted = kept.date_posted.or(other.date_posted);
    kept.location = kept.location.take().or(other.location);
    kept.salary = kept.salary.take().or(other.salary);
    kept.is_remote = kept.is_remote.or(other.is_remote);
    kept.job_type = kept.job_type.take().or(other.job_type);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(title: &str, company: &str, url: &str) -> RawListing {
        RawListing::new("greenhouse", title, company, url)
    }

    #[test]
    fn same_title_and_company_merge_across_categories_and_sources() {
        let mut d = Deduper::default();
        d.add(listing("Data Engineer", "Acme", "https://a/1"), 1);
        let mut copy = listing("  data   ENGINEER ", "ACME", "https://b/2");
        copy.description = Some("from the second source".into());
        d.add(copy, 2);
        d.add(listing("Data Engineer", "Other Co", "https://c/3"), 1);
        assert_eq!(d.len(), 2);
        let found = d.into_found();
        assert_eq!(found[0].categories, BTreeSet::from([1, 2]));
        assert_eq!(
            found[0].listing.job_url, "https://a/1",
            "the first copy is kept"
        );
        assert_eq!(
            found[0].listing.description.as_deref(),
            Some("from the second source"),
            "gaps are filled"
        );
        assert_eq!(found[1].categories, BTreeSet::from([1]));
    }
}
