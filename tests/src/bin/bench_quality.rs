//! Ranking quality and speed of the keyword scorer on the labeled sets in
//! `tests/fixtures/quality/` (their README has the rubric).
//!
//! ```sh
//! cargo build --release -p tests --bin bench-quality
//! target/release/bench-quality [SET_DIR ...]     # default: the dev and holdout sets
//! BENCH_PAIRS=1 target/release/bench-quality dev # also every pair's score and reason
//! ```
//!
//! For each set, computed in the same run over the same listings and resumes:
//! - **keyword scorer**: the product's (`jobs::matching::keyword`), the set's listings as its
//!   corpus.
//! - **BM25**: the resume as the query (k1 = 1.2, b = 0.75, the same tokens), scaled to 0–100
//!   by each resume's best listing.
//! - **TF-IDF cosine**: tf × idf vectors of listing and resume, cosine × 100.
//! - **token coverage**: the share of the listing's distinct words the resume has, × 100
//!   (the naive formula the project started with).
//!
//! Printed per scorer: mean NDCG@10 (gain 2^grade − 1, every listing ranked for every
//! resume, ties broken by a fixed hash of the pair), the share of strong fits (grade 2) scoring ≥ 70, the
//! share of unrelated pairs (grade 0) scoring ≤ 30, and the mean score per grade. Then the
//! scorer's speed on one thread over the sets' 2–3 KB listings: pairs/s with each listing
//! prepared once (the per-category cache) and with every pair preparing its listing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jobs::matching::keyword::{self, Corpus, Listing, Resume};
use tests::quality::{self, Set, YEAR};

/// Lowercase words without stopwords, as the baselines see them.
fn tokens(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut out = Vec::new();
    keyword::terms::for_each_word(&lowered, |w| {
        if !w.stopword {
            out.push(w.stem.to_owned());
        }
    });
    out
}

/// Scores (resume index → listing index → 0–100) of one scorer.
type Scores = Vec<Vec<f64>>;

fn project(set: &Set) -> (Scores, Vec<Vec<String>>) {
    let corpus = Corpus::from_listings(
        set.listings
            .iter()
            .map(|l| (l.title.as_str(), l.description.as_str())),
    );
    let prepared: Vec<Listing> = set
        .listings
        .iter()
        .map(|l| Listing::new(&corpus, &l.title, &l.description))
        .collect();
    let mut scores = Vec::new();
    let mut reasons = Vec::new();
    for (_, text) in &set.resumes {
        let resume = Resume::new(text, YEAR);
        let row: Vec<keyword::KeywordScore> = prepared
            .iter()
            .map(|l| keyword::score_listing(&resume, l))
            .collect();
        scores.push(row.iter().map(|s| f64::from(s.score)).collect());
        reasons.push(row.into_iter().map(|s| s.reason).collect());
    }
    (scores, reasons)
}

struct Stats {
    docs: Vec<HashMap<String, f64>>,
    lengths: Vec<f64>,
    df: HashMap<String, f64>,
}

fn stats(set: &Set) -> Stats {
    let mut docs = Vec::new();
    let mut lengths = Vec::new();
    let mut df: HashMap<String, f64> = HashMap::new();
    for l in &set.listings {
        let words = tokens(&format!("{}\n{}", l.title, l.description));
        lengths.push(words.len() as f64);
        let mut tf: HashMap<String, f64> = HashMap::new();
        for w in words {
            *tf.entry(w).or_default() += 1.0;
        }
        for w in tf.keys() {
            *df.entry(w.clone()).or_default() += 1.0;
        }
        docs.push(tf);
    }
    Stats { docs, lengths, df }
}

fn idf(stats: &Stats, word: &str) -> f64 {
    let n = stats.docs.len() as f64;
    let df = stats.df.get(word).copied().unwrap_or(0.0);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

fn bm25(set: &Set, stats: &Stats) -> Scores {
    let avg = stats.lengths.iter().sum::<f64>() / stats.lengths.len() as f64;
    let (k1, b) = (1.2, 0.75);
    set.resumes
        .iter()
        .map(|(_, text)| {
            let mut query: HashMap<String, f64> = HashMap::new();
            for w in tokens(text) {
                *query.entry(w).or_default() += 1.0;
            }
            let raw: Vec<f64> = stats
                .docs
                .iter()
                .zip(&stats.lengths)
                .map(|(doc, len)| {
                    query
                        .iter()
                        .filter_map(|(w, qtf)| doc.get(w).map(|tf| (w, qtf, tf)))
                        .map(|(w, qtf, tf)| {
                            idf(stats, w) * qtf * tf * (k1 + 1.0)
                                / (tf + k1 * (1.0 - b + b * len / avg))
                        })
                        .sum()
                })
                .collect();
            let best = raw.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
            raw.iter().map(|s| 100.0 * s / best).collect()
        })
        .collect()
}

fn cosine(set: &Set, stats: &Stats) -> Scores {
    let vector = |tf: &HashMap<String, f64>| -> HashMap<String, f64> {
        tf.iter()
            .map(|(w, f)| (w.clone(), f * idf(stats, w)))
            .collect()
    };
    let norm = |v: &HashMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    let docs: Vec<HashMap<String, f64>> = stats.docs.iter().map(vector).collect();
    set.resumes
        .iter()
        .map(|(_, text)| {
            let mut tf: HashMap<String, f64> = HashMap::new();
            for w in tokens(text) {
                *tf.entry(w).or_default() += 1.0;
            }
            let q = vector(&tf);
            let qn = norm(&q);
            docs.iter()
                .map(|d| {
                    let dot: f64 = q.iter().filter_map(|(w, x)| d.get(w).map(|y| x * y)).sum();
                    100.0 * dot / (qn * norm(d)).max(f64::MIN_POSITIVE)
                })
                .collect()
        })
        .collect()
}

fn coverage(set: &Set) -> Scores {
    set.resumes
        .iter()
        .map(|(_, text)| {
            let have: HashSet<String> = tokens(text).into_iter().collect();
            set.listings
                .iter()
                .map(|l| {
                    let want: HashSet<String> = tokens(&format!("{}\n{}", l.title, l.description))
                        .into_iter()
                        .collect();
                    100.0 * want.intersection(&have).count() as f64 / want.len().max(1) as f64
                })
                .collect()
        })
        .collect()
}

struct Report {
    ndcg: f64,
    strong_high: f64,
    unrelated_low: f64,
    mean_by_grade: [f64; 3],
}

fn evaluate(set: &Set, scores: &Scores) -> Report {
    let mut ndcg = 0.0;
    let (mut strong, mut strong_high, mut unrelated, mut unrelated_low) = (0, 0, 0, 0);
    let mut sums = [0.0; 3];
    let mut counts = [0usize; 3];
    for (r, (rid, _)) in set.resumes.iter().enumerate() {
        let grades: Vec<u8> = set
            .listings
            .iter()
            .map(|l| set.grades[&(rid.clone(), l.id.clone())])
            .collect();
        // Ties broken by a hash of the pair, not by listing order (the sets' authors may
        // have written strong fits first).
        let mut order: Vec<usize> = (0..set.listings.len()).collect();
        order.sort_by(|a, b| {
            scores[r][*b]
                .total_cmp(&scores[r][*a])
                .then_with(|| tie(rid, &set.listings[*a].id).cmp(&tie(rid, &set.listings[*b].id)))
        });
        let dcg = |ranked: &mut dyn Iterator<Item = u8>| -> f64 {
            ranked
                .take(10)
                .enumerate()
                .map(|(i, g)| (2f64.powi(i32::from(g)) - 1.0) / ((i + 2) as f64).log2())
                .sum()
        };
        let got = dcg(&mut order.iter().map(|i| grades[*i]));
        let mut ideal = grades.clone();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let best = dcg(&mut ideal.into_iter());
        ndcg += if best > 0.0 { got / best } else { 1.0 };
        for (l, g) in grades.iter().enumerate() {
            let s = scores[r][l];
            sums[usize::from(*g)] += s;
            counts[usize::from(*g)] += 1;
            match g {
                2 => {
                    strong += 1;
                    strong_high += usize::from(s >= 70.0);
                }
                0 => {
                    unrelated += 1;
                    unrelated_low += usize::from(s <= 30.0);
                }
                _ => {}
            }
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Report {
        ndcg: ndcg / set.resumes.len() as f64,
        strong_high: share(strong_high, strong),
        unrelated_low: share(unrelated_low, unrelated),
        mean_by_grade: [0, 1, 2].map(|g| sums[g] / counts[g].max(1) as f64),
    }
}

/// A fixed pseudo-random order for equal scores.
fn tie(resume: &str, listing: &str) -> u64 {
    keyword::terms::hash_word(&format!("{resume}/{listing}"))
}

fn speed(sets: &[Set]) {
    let listings: Vec<(&str, &str)> = sets
        .iter()
        .flat_map(|s| {
            s.listings
                .iter()
                .map(|l| (l.title.as_str(), l.description.as_str()))
        })
        .collect();
    let resumes: Vec<Resume> = sets
        .iter()
        .flat_map(|s| s.resumes.iter().map(|(_, t)| Resume::new(t, YEAR)))
        .collect();
    let bytes = listings
        .iter()
        .map(|(t, d)| t.len() + d.len())
        .sum::<usize>()
        / listings.len();
    let corpus = Corpus::from_listings(listings.iter().copied());
    let prepared: Vec<Listing> = listings
        .iter()
        .map(|(t, d)| Listing::new(&corpus, t, d))
        .collect();
    let mut checksum = 0i64;
    let run = |each: &mut dyn FnMut(&Resume, usize) -> i16| {
        let started = Instant::now();
        let mut pairs = 0usize;
        let mut sum = 0i64;
        while started.elapsed() < Duration::from_secs(2) {
            for resume in &resumes {
                for i in 0..listings.len() {
                    sum += i64::from(each(resume, i));
                    pairs += 1;
                }
            }
        }
        (pairs as f64 / started.elapsed().as_secs_f64(), sum)
    };
    let (cached, sum) = run(&mut |r, i| keyword::score_listing(r, &prepared[i]).score);
    checksum += sum;
    let (uncached, sum) =
        run(&mut |r, i| keyword::score(&corpus, r, listings[i].0, listings[i].1).score);
    checksum += sum;
    println!(
        "\nspeed, one thread, {} listings of {bytes} bytes on average × {} resumes:",
        listings.len(),
        resumes.len()
    );
    println!("  listing prepared once (the category cache): {cached:>9.0} pairs/s");
    println!("  listing prepared for every pair:             {uncached:>9.0} pairs/s");
    println!(
        "  so preparing one listing takes {:.1} µs, scoring a prepared pair {:.1} µs (checksum {checksum})",
        (1.0 / uncached - 1.0 / cached) * 1e6,
        1e6 / cached
    );
}

fn main() -> anyhow::Result<()> {
    let root = quality::root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dirs: Vec<PathBuf> = if args.is_empty() {
        vec![root.join("dev"), root.join("holdout")]
    } else {
        args.iter()
            .map(|a| {
                let p = PathBuf::from(a);
                if p.exists() { p } else { root.join(a) }
            })
            .collect()
    };
    let dump = std::env::var("BENCH_PAIRS").is_ok_and(|v| v == "1");
    let mut sets = Vec::new();
    for dir in &dirs {
        let set = quality::load(dir)?;
        let (ours, reasons) = project(&set);
        let st = stats(&set);
        let table: BTreeMap<usize, (&str, Scores)> = BTreeMap::from([
            (0, ("keyword scorer", ours.clone())),
            (1, ("BM25 (resume as query)", bm25(&set, &st))),
            (2, ("TF-IDF cosine", cosine(&set, &st))),
            (3, ("token coverage", coverage(&set))),
        ]);
        println!(
            "\n{}: {} listings × {} resumes, grades 2/1/0: {}/{}/{}",
            set.name,
            set.listings.len(),
            set.resumes.len(),
            set.grades.values().filter(|g| **g == 2).count(),
            set.grades.values().filter(|g| **g == 1).count(),
            set.grades.values().filter(|g| **g == 0).count(),
        );
        println!(
            "| scorer | NDCG@10 | strong fits ≥ 70 | unrelated ≤ 30 | mean score of 2 / 1 / 0 |"
        );
        println!("|---|---|---|---|---|");
        for (name, scores) in table.values() {
            let r = evaluate(&set, scores);
            println!(
                "| {name} | {:.3} | {:.0}% | {:.0}% | {:.0} / {:.0} / {:.0} |",
                r.ndcg,
                r.strong_high * 100.0,
                r.unrelated_low * 100.0,
                r.mean_by_grade[2],
                r.mean_by_grade[1],
                r.mean_by_grade[0]
            );
        }
        if dump {
            for (r, (rid, _)) in set.resumes.iter().enumerate() {
                let mut order: Vec<usize> = (0..set.listings.len()).collect();
                order.sort_by(|a, b| ours[r][*b].total_cmp(&ours[r][*a]).then(a.cmp(b)));
                println!("\n{rid}");
                for l in order {
                    let listing = &set.listings[l];
                    let g = set.grades[&(rid.clone(), listing.id.clone())];
                    println!(
                        "  {:>3} g{g} {} {} — {}",
                        ours[r][l], listing.id, listing.title, reasons[r][l]
                    );
                }
            }
        }
        sets.push(set);
    }
    speed(&sets);
    Ok(())
}
