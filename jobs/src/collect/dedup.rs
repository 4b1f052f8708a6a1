//! Global dedup by fingerprint (DESIGN.md §5 "Identity"), holding keys, not listings.
//!
//! Listings are buffered until a chunk is full; the store then writes the chunk and the
//! [`Deduper`] keeps only each fingerprint's listing id (about 50 bytes a listing). A later
//! copy of a listing still in the buffer is merged into it (filling its gaps, adding its
//! category and posting); a later copy of a stored one becomes a small entry that only adds
//! its category link and posting; a copy of one whose chunk is being stored waits until that
//! chunk is settled. So no two chunks being stored at once share a fingerprint.

use std::collections::{BTreeSet, HashMap};

use entity::{Fingerprint, JobHash};

use crate::sources::RawListing;

/// One board URL of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub job_hash: JobHash,
    pub source: &'static str,
    pub source_id: Option<String>,
    /// `source:board` for a company board's listing.
    pub board: Option<String>,
    pub job_url: String,
    pub job_url_direct: Option<String>,
}

impl Posting {
    /// The posting a listing describes.
    pub fn of(l: &RawListing) -> Self {
        Self {
            job_hash: JobHash::of(&l.title, &l.company, &l.job_url),
            source: l.source,
            source_id: l.source_id.as_ref().map(|s| s.chars().take(200).collect()),
            board: l.board.clone(),
            job_url: l.job_url.clone(),
            job_url_direct: l.job_url_direct.clone(),
        }
    }
}

/// A listing waiting to be stored.
#[derive(Debug, Clone)]
pub struct Pending {
    pub fingerprint: Fingerprint,
    /// Its fields; `None` when an earlier chunk stored it (`id` is then set).
    pub listing: Option<RawListing>,
    /// The stored listing, when an earlier chunk of this run stored it.
    pub id: Option<i64>,
    pub categories: BTreeSet<i64>,
    pub postings: Vec<Posting>,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Buffered(usize),
    /// Taken by a chunk that is being stored: later copies wait in `deferred`.
    InFlight,
    Stored(i64),
    /// The database refused it: later copies are dropped too.
    Refused,
}

/// Merges listings with the same fingerprint, in chunks of `chunk` listings.
#[derive(Debug)]
pub struct Deduper {
    slots: HashMap<[u8; 32], Slot>,
    buffer: Vec<Pending>,
    /// Copies of listings whose chunk is being stored, added again once it is settled.
    deferred: Vec<(RawListing, Vec<i64>)>,
    chunk: usize,
}

impl Deduper {
    /// A deduper whose chunks hold `chunk` listings.
    pub fn new(chunk: usize) -> Self {
        Self {
            slots: HashMap::new(),
            buffer: Vec::new(),
            deferred: Vec::new(),
            chunk: chunk.max(1),
        }
    }

    /// Adds a listing found by `categories`; true when the buffer is full and wants a
    /// [`take`](Self::take).
    pub fn add(&mut self, listing: RawListing, categories: &[i64]) -> bool {
        let digest = Fingerprint::digest(
            &listing.title,
            &listing.company,
            listing.location.as_deref(),
        );
        let posting = Posting::of(&listing);
        let index = match self.slots.get(&digest).copied() {
            Some(Slot::Refused) => return false,
            Some(Slot::InFlight) => {
                self.deferred.push((listing, categories.to_vec()));
                return false;
            }
            Some(Slot::Buffered(i)) => {
                let kept = &mut self.buffer[i];
                if let Some(k) = &mut kept.listing {
                    fill_gaps(k, listing);
                }
                i
            }
            Some(Slot::Stored(id)) => self.push(digest, None, Some(id)),
            None => self.push(digest, Some(listing), None),
        };
        let pending = &mut self.buffer[index];
        pending.categories.extend(categories);
        match pending
            .postings
            .iter_mut()
            .find(|p| p.job_hash == posting.job_hash)
        {
            Some(p) => {
                p.board = p.board.take().or(posting.board);
            }
            None => pending.postings.push(posting),
        }
        self.buffer.len() >= self.chunk
    }

    fn push(&mut self, digest: [u8; 32], listing: Option<RawListing>, id: Option<i64>) -> usize {
        let i = self.buffer.len();
        self.slots.insert(digest, Slot::Buffered(i));
        self.buffer.push(Pending {
            fingerprint: Fingerprint::from_digest(&digest),
            listing,
            id,
            categories: BTreeSet::new(),
            postings: Vec::new(),
        });
        i
    }

    /// The buffered listings, to be stored; [`settle`](Self::settle) gives their ids back.
    pub fn take(&mut self) -> Vec<Pending> {
        let chunk = std::mem::take(&mut self.buffer);
        for p in &chunk {
            self.slots.insert(digest_of(&p.fingerprint), Slot::InFlight);
        }
        chunk
    }

    /// Whether listings wait for a chunk being stored, or are buffered.
    pub fn has_buffered(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// Records what the store made of a chunk from [`take`](Self::take): each listing's id,
    /// or `None` when it was refused.
    pub fn settle(&mut self, chunk: &[Pending], ids: &[Option<i64>]) {
        for (p, id) in chunk.iter().zip(ids) {
            let digest = digest_of(&p.fingerprint);
            self.slots.insert(
                digest,
                match id {
                    Some(id) => Slot::Stored(*id),
                    None => Slot::Refused,
                },
            );
        }
        let waiting = std::mem::take(&mut self.deferred);
        for (listing, categories) in waiting {
            self.add(listing, &categories);
        }
    }

    /// Distinct listings so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

fn digest_of(f: &Fingerprint) -> [u8; 32] {
    let mut out = [0_u8; 32];
    hex::decode_to_slice(f.as_str(), &mut out).unwrap_or_default();
    out
}

fn fill_gaps(kept: &mut RawListing, other: RawListing) {
    if kept.description.as_deref().is_none_or(str::is_empty) {
        kept.description = other.description;
    }
    kept.job_url_direct = kept.job_url_direct.take().or(other.job_url_direct);
    kept.date_posted = kept.date_posted.or(other.date_posted);
    kept.salary = kept.salary.take().or(other.salary);
    kept.is_remote = kept.is_remote.or(other.is_remote);
    kept.job_type = kept.job_type.take().or(other.job_type);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(title: &str, company: &str, url: &str) -> RawListing {
        let mut l = RawListing::new("greenhouse", title, company, url);
        l.location = Some("Berlin, Germany".into());
        l
    }

    #[test]
    fn one_fingerprint_is_one_listing_with_its_postings_and_categories() {
        let mut d = Deduper::new(10);
        d.add(listing("Data Engineer", "Acme Inc.", "https://a/1"), &[1]);
        let mut copy = listing("  data   ENGINEER ", "ACME", "https://b/2");
        copy.description = Some("from the second source".into());
        d.add(copy, &[2]);
        d.add(listing("Data Engineer", "Acme Inc.", "https://a/1"), &[2]);
        d.add(listing("Data Engineer", "Other Co", "https://c/3"), &[1]);
        let mut elsewhere = listing("Data Engineer", "Acme", "https://d/4");
        elsewhere.location = Some("Munich".into());
        d.add(elsewhere, &[1]);
        assert_eq!(d.len(), 3);
        let chunk = d.take();
        assert_eq!(chunk.len(), 3);
        assert_eq!(chunk[0].categories, BTreeSet::from([1, 2]));
        let kept = chunk[0].listing.as_ref().expect("fields");
        assert_eq!(kept.job_url, "https://a/1", "the first copy is kept");
        assert_eq!(
            kept.description.as_deref(),
            Some("from the second source"),
            "gaps are filled"
        );
        let urls: Vec<&str> = chunk[0]
            .postings
            .iter()
            .map(|p| p.job_url.as_str())
            .collect();
        assert_eq!(
            urls,
            ["https://a/1", "https://b/2"],
            "a URL seen twice is one posting"
        );
    }

    #[test]
    fn a_stored_listing_seen_again_only_adds_its_links_and_postings() {
        let mut d = Deduper::new(2);
        assert!(!d.add(listing("QA Engineer", "Acme", "https://a/1"), &[1]));
        assert!(d.add(listing("Nurse", "Clinic", "https://a/2"), &[1]));
        let chunk = d.take();
        d.settle(&chunk, &[Some(7), None]);
        d.add(listing("QA Engineer", "Acme", "https://b/1"), &[3]);
        d.add(listing("Nurse", "Clinic", "https://b/2"), &[3]);
        let next = d.take();
        assert_eq!(next.len(), 1, "a refused listing is not tried again");
        assert_eq!(next[0].id, Some(7));
        assert!(next[0].listing.is_none(), "its fields are not held again");
        assert_eq!(next[0].categories, BTreeSet::from([3]));
        assert_eq!(next[0].postings[0].job_url, "https://b/1");
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn a_copy_of_a_listing_being_stored_waits_for_its_id() {
        let mut d = Deduper::new(10);
        d.add(listing("QA Engineer", "Acme", "https://a/1"), &[1]);
        let chunk = d.take();
        d.add(listing("QA Engineer", "Acme", "https://b/1"), &[2]);
        assert!(!d.has_buffered(), "it waits while its chunk is stored");
        d.settle(&chunk, &[Some(9)]);
        let next = d.take();
        assert_eq!(next.len(), 1);
        assert_eq!(
            (next[0].id, next[0].categories.clone()),
            (Some(9), BTreeSet::from([2]))
        );
    }
}
