//! The reference's word lists, shared by the scorer and `build.rs` (which
//! folds them into the static lexicon table).

/// Booster increment.
pub const B_INCR: f64 = 0.293;
/// Dampener increment.
pub const B_DECR: f64 = -0.293;

/// Negation words (`NEGATE`).
pub const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Boosters and dampeners (`BOOSTER_DICT`).
pub const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("just enough", B_DECR),
    ("kind of", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sort of", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// Every word of `SPECIAL_CASES` and of the multi-word [`BOOSTERS`].
pub const IDIOM_WORDS: &[&str] = &[
    "the", "shit", "bomb", "bad", "ass", "bus", "stop", "yeah", "right", "kiss", "of", "death",
    "to", "die", "for", "beating", "heart", "just", "enough", "kind", "sort",
];

/// The words VADER's rules compare by spelling ("no", "but", "kind of",
/// "at least", "never so", "without doubt", …). Each is in the lexicon
/// table with its keyword, so a rule tests one byte instead of comparing
/// strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keyword {
    /// Any other word.
    #[default]
    None,
    /// "no"
    No,
    /// "but"
    But,
    /// "kind" (of "kind of")
    Kind,
    /// "of"
    Of,
    /// "least"
    Least,
    /// "at"
    At,
    /// "very"
    Very,
    /// "never"
    Never,
    /// "so"
    So,
    /// "this"
    This,
    /// "without"
    Without,
    /// "doubt"
    Doubt,
    /// "or"
    Or,
    /// "nor"
    Nor,
}

/// Each [`Keyword`] with its spelling.
pub const KEYWORDS: &[(Keyword, &str)] = &[
    (Keyword::No, "no"),
    (Keyword::But, "but"),
    (Keyword::Kind, "kind"),
    (Keyword::Of, "of"),
    (Keyword::Least, "least"),
    (Keyword::At, "at"),
    (Keyword::Very, "very"),
    (Keyword::Never, "never"),
    (Keyword::So, "so"),
    (Keyword::This, "this"),
    (Keyword::Without, "without"),
    (Keyword::Doubt, "doubt"),
    (Keyword::Or, "or"),
    (Keyword::Nor, "nor"),
];
