//! English plurals and singulars the way json-server's `pluralize` makes the
//! common ones, for its naming rule: `postId` references `posts`, and
//! `/posts/1/comments` are the comments whose `postId` is 1.

/// Words whose plural is not made by a rule.
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("man", "men"),
    ("woman", "women"),
    ("child", "children"),
    ("tooth", "teeth"),
    ("foot", "feet"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("ox", "oxen"),
    ("leaf", "leaves"),
    ("life", "lives"),
    ("knife", "knives"),
    ("wife", "wives"),
    ("half", "halves"),
    ("criterion", "criteria"),
    ("datum", "data"),
    ("movie", "movies"),
];

/// Words that are their own plural.
const UNCOUNTABLE: &[&str] = &[
    "data",
    "information",
    "news",
    "series",
    "species",
    "sheep",
    "fish",
    "deer",
    "equipment",
    "feedback",
    "media",
    "metadata",
    "software",
    "staff",
    "traffic",
];

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// Keeps the case of `word`'s first letter on `made`.
fn like(word: &str, made: String) -> String {
    if word.chars().next().is_some_and(char::is_uppercase) {
        let mut chars = made.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        made
    }
}

/// The plural of `word` (a plural stays as it is).
pub fn plural(word: &str) -> String {
    let lower = word.to_lowercase();
    if UNCOUNTABLE.contains(&lower.as_str()) || IRREGULAR.iter().any(|(_, many)| *many == lower) {
        return word.to_string();
    }
    if let Some((_, many)) = IRREGULAR.iter().find(|(one, _)| *one == lower) {
        return like(word, (*many).to_string());
    }
    if singular(word) != word {
        return word.to_string();
    }
    let made = if let Some(stem) = lower.strip_suffix('y')
        && stem.chars().last().is_some_and(|c| !is_vowel(c))
    {
        format!("{stem}ies")
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| lower.ends_with(end))
    {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    };
    like(word, keep_case(word, &lower, made))
}

/// The singular of `word` (a singular stays as it is).
pub fn singular(word: &str) -> String {
    let lower = word.to_lowercase();
    if UNCOUNTABLE.contains(&lower.as_str()) {
        return word.to_string();
    }
    if let Some((one, _)) = IRREGULAR.iter().find(|(_, many)| *many == lower) {
        return like(word, (*one).to_string());
    }
    if IRREGULAR.iter().any(|(one, _)| *one == lower) {
        return word.to_string();
    }
    let made = if let Some(stem) = lower.strip_suffix("ies")
        && stem.len() > 1
    {
        format!("{stem}y")
    } else if let Some(stem) = lower.strip_suffix("es")
        && (["ss", "x", "z", "ch", "sh"]
            .iter()
            .any(|end| stem.ends_with(end))
            || (stem.ends_with("us") && !stem.ends_with("ous")))
    {
        stem.to_string()
    } else if let Some(stem) = lower.strip_suffix('s')
        && !stem.ends_with('s')
        && !lower.ends_with("us")
        && !lower.ends_with("is")
        && !stem.is_empty()
    {
        stem.to_string()
    } else {
        return word.to_string();
    };
    like(word, keep_case(word, &lower, made))
}

/// `made` with `word`'s own letters where it shares them (camelCase stems).
fn keep_case(word: &str, lower: &str, made: String) -> String {
    let shared = made
        .chars()
        .zip(lower.chars())
        .take_while(|(a, b)| a == b)
        .count();
    word.chars()
        .take(shared)
        .chain(made.chars().skip(shared))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_singulars_of_common_collection_names() {
        for (one, many) in [
            ("post", "posts"),
            ("dish", "dishes"),
            ("category", "categories"),
            ("status", "statuses"),
            ("address", "addresses"),
            ("box", "boxes"),
            ("person", "people"),
            ("day", "days"),
            ("house", "houses"),
            ("blogPost", "blogPosts"),
        ] {
            assert_eq!(plural(one), many, "plural of {one}");
            assert_eq!(singular(many), one, "singular of {many}");
            assert_eq!(plural(many), many, "plural of {many}");
        }
        assert_eq!(singular("feedback"), "feedback");
    }
}
