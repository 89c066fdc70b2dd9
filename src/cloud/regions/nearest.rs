//! The known names nearest a name that is not one, for the message that refuses it: a typo
//! (`eu-wset-1`, `CPUS-per-projet-region`) or a number too far (`us-east-9`, `L-34B43A09`) is
//! fixed by reading the hint. Regions, quota codes, quota names and service codes all use it.

/// At most this many names are offered.
const MOST: usize = 3;

/// Up to three known names nearest `word` by edit distance (ties by name): those at the
/// smallest distance found and one more, so `us-east-9` gets `us-east-1, us-east-2` and not
/// every region that shares its number. None when even the nearest differs in more than half
/// the name: a hint that far is noise.
pub fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> =
        known.into_iter().map(|k| (distance(word, k), k)).collect();
    scored.sort_unstable();
    let Some(&(best, _)) = scored.first() else {
        return Vec::new();
    };
    if best > word.len() / 2 {
        return Vec::new();
    }
    scored
        .into_iter()
        .take_while(|(d, _)| *d <= best + 1)
        .take(MOST)
        .map(|(_, k)| k)
        .collect()
}

/// [`nearest`] for names people type from memory (AWS quota names): case and punctuation do not
/// count, and a name with every word of the one asked (or whose words are all in it) comes
/// first, since `Running On-Demand Standard instances` is most often a shortened
/// `Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances`.
pub fn nearest_name<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let asked = words(name);
    let known: Vec<(String, &str)> = known.into_iter().map(|k| (k.to_lowercase(), k)).collect();
    let mut sharing: Vec<&str> = (known.iter())
        .filter(|(lower, _)| {
            let have = words(lower);
            !asked.is_empty() && (asked.is_subset(&have) || have.is_subset(&asked))
        })
        .map(|(_, k)| *k)
        .collect();
    if !sharing.is_empty() {
        sharing.sort_unstable();
        sharing.truncate(MOST);
        return sharing;
    }
    let near = nearest(
        &name.to_lowercase(),
        known.iter().map(|(lower, _)| lower.as_str()),
    );
    (near.into_iter())
        .filter_map(|n| known.iter().find(|(lower, _)| lower == n).map(|(_, k)| *k))
        .collect()
}

/// The lowercase words of a name, punctuation dropped.
fn words(name: &str) -> std::collections::BTreeSet<String> {
    (name.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Levenshtein distance over bytes (region names are ASCII by the time they are compared).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: [&str; 8] = [
        "ap-south-1",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ];

    #[test]
    fn a_number_too_far_gets_its_siblings() {
        assert_eq!(nearest("us-east-9", AWS), ["us-east-1", "us-east-2"]);
    }

    #[test]
    fn a_typo_gets_the_name_meant_first() {
        assert_eq!(nearest("eu-wset-1", AWS)[0], "eu-west-1");
        assert_eq!(
            nearest("us-centrall1", ["us-central1", "us-east1"]),
            ["us-central1"]
        );
    }

    #[test]
    fn at_most_three_and_none_when_nothing_is_near() {
        let many = ["us-east1", "us-east2", "us-east3", "us-east4", "us-east5"];
        assert_eq!(nearest("us-east9", many).len(), 3);
        assert!(nearest("mars-olympus-1", AWS).is_empty());
        assert!(nearest("us-east-9", []).is_empty());
    }

    #[test]
    fn codes_and_names_get_hints_too() {
        let codes = ["L-34B43A08", "L-1216C47A", "L-85EED4F7"];
        assert_eq!(nearest("L-34B43A09", codes), ["L-34B43A08"]);
        let names = [
            "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
            "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
            "Running On-Demand G and VT instances",
        ];
        assert_eq!(
            nearest_name("running on-demand standard", names),
            [names[0]],
            "a shortened name, whatever its case"
        );
        assert_eq!(
            nearest_name("Running On-Demand G and VT instanse", names),
            [names[2]]
        );
        assert!(nearest_name("Elastic IP addresses", names).is_empty());
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("us-east-9", "us-east-1"), 1);
        assert_eq!(distance("eu-wset-1", "eu-west-1"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
