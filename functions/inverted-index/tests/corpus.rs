//! The exact index of a small hand-made corpus: map, sort (bytewise, as
//! `LC_ALL=C sort`) and reduce in process.

use inverted_index::map::Mapper;
use inverted_index::reduce::Reducer;
use inverted_index::tokenize::Tokenizer;

const CORPUS: &str = "\
doc1\tThe cat sat on the mat. The CAT!
doc2\tDon't e-mail the Über-café; café, CAFE\u{301}.
a line without a tab
doc3\t東京 and Москва, the cat's toy: 42 cats
\r
doc4\t--- ... ___
doc2\tA second record for doc2: cat.
doc5\tcaf\u{e9}\r
";

const INDEX: &str = "\
42\t1\tdoc3:1
a\t1\tdoc2:1
and\t1\tdoc3:1
café\t2\tdoc2:2,doc5:1
cat\t2\tdoc1:2,doc2:1
cat's\t1\tdoc3:1
cats\t1\tdoc3:1
doc2\t1\tdoc2:1
don't\t1\tdoc2:1
e-mail\t1\tdoc2:1
for\t1\tdoc2:1
mat\t1\tdoc1:1
on\t1\tdoc1:1
record\t1\tdoc2:1
sat\t1\tdoc1:1
second\t1\tdoc2:1
the\t3\tdoc1:3,doc2:1,doc3:1
toy\t1\tdoc3:1
über-café\t1\tdoc2:1
москва\t1\tdoc3:1
京\t1\tdoc3:1
東\t1\tdoc3:1
";

#[test]
fn hand_made_corpus_gives_the_exact_index() {
    let mut mapper = Mapper::new(Tokenizer::new());
    let mut mapped = Vec::new();
    for line in CORPUS.as_bytes().split(|&b| b == b'\n') {
        mapper.map_line(line, &mut mapped);
    }
    mapper.flush(&mut mapped);
    let counters = mapper.counters;
    assert_eq!(counters.malformed, 1, "the tab-less line");
    assert_eq!(
        counters.blank, 2,
        "the CR-only line and the final empty line"
    );
    let mut lines: Vec<&[u8]> = mapped
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    let mut reducer = Reducer::new();
    let mut index = Vec::new();
    for line in lines {
        reducer.push_line(line, &mut index).expect("sorted input");
    }
    reducer.finish(&mut index);
    assert_eq!(String::from_utf8(index).expect("utf-8"), INDEX);
}
