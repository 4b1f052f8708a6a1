//! Opaque keyset cursors: the hex of `kind:a:b`, where `kind` names the list and `a`, `b` the
//! sort key of the last row of a page. A cursor that is not one this server made for that list
//! (wrong kind, not hex, out-of-range values) is a VALIDATION error on `after`.

use entity::Score;
use jobs::matching::read::{MatchAfter, MatchOrder};

use crate::error::{ApiError, ApiResult};

fn bad_cursor() -> ApiError {
    ApiError::Validation {
        field: "after",
        message: "not a cursor from this list".into(),
    }
}

fn encode(kind: char, a: i64, b: i64) -> String {
    hex::encode(format!("{kind}:{a}:{b}"))
}

fn decode(kind: char, cursor: &str) -> ApiResult<(i64, i64)> {
    let bytes = hex::decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(a), Some(b), None) if k.len() == 1 && k.starts_with(kind) => Ok((
            a.parse().map_err(|_| bad_cursor())?,
            b.parse().map_err(|_| bad_cursor())?,
        )),
        _ => Err(bad_cursor()),
    }
}

/// The cursor after a listing of `jobListings`.
pub fn listing(id: i64) -> String {
    encode('l', 0, id)
}

/// The listing id a `jobListings` cursor ends at.
pub fn listing_after(cursor: &str) -> ApiResult<i64> {
    decode('l', cursor).map(|(_, id)| id)
}

/// The cursor after a match in `order`.
pub fn matched(order: MatchOrder, score: Score, match_id: i64, listing_id: i64) -> String {
    match order {
        MatchOrder::ScoreDesc => encode('s', i64::from(score.value()), match_id),
        MatchOrder::Newest => encode('n', 0, listing_id),
    }
}

/// Where a `matchedJobs` cursor of `order` ends.
pub fn matched_after(order: MatchOrder, cursor: &str) -> ApiResult<MatchAfter> {
    match order {
        MatchOrder::ScoreDesc => {
            let (score, id) = decode('s', cursor)?;
            let score = i32::try_from(score)
                .ok()
                .and_then(|s| Score::try_from(s).ok())
                .ok_or_else(bad_cursor)?;
            Ok(MatchAfter::Score { score, id })
        }
        MatchOrder::Newest => decode('n', cursor).map(|(_, id)| MatchAfter::Listing(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forged_ones_are_refused() {
        assert_eq!(listing_after(&listing(42)).ok(), Some(42));
        let c = matched(MatchOrder::ScoreDesc, Score::clamped(87.0), 9, 3);
        assert_eq!(
            matched_after(MatchOrder::ScoreDesc, &c).ok(),
            Some(MatchAfter::Score {
                score: Score::clamped(87.0),
                id: 9
            })
        );
        assert!(
            matched_after(MatchOrder::Newest, &c).is_err(),
            "another list's cursor"
        );
        assert!(listing_after("zz").is_err(), "not hex");
        let forged = hex::encode("s:900:1");
        assert!(
            matched_after(MatchOrder::ScoreDesc, &forged).is_err(),
            "a score out of range is refused, not clamped"
        );
    }
}
