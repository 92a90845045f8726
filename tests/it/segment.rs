//! Sentence splitting on the hand-written hard-case paragraphs (golden), and
//! the invariants: ingest and segment never panic on any bytes, and the
//! sentences of every block joined back give the block's text.

use proptest::prelude::*;

use bantin::ingest;
use bantin::segment;

use crate::util::{assert_golden, repo};

#[test]
fn hard_case_paragraphs_match_golden() {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/ingest/paragraphs-hard-cases.txt"))
            .unwrap();
    let mut out = String::new();
    let mut paragraphs = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        paragraphs += 1;
        for span in segment::sentences(line, 0..line.len()) {
            out.push_str(&line[span]);
            out.push('\n');
        }
        out.push('\n');
    }
    assert!(paragraphs >= 40, "{paragraphs} paragraphs");
    assert_golden(
        &repo().join("tests/golden/ingest/paragraphs-hard-cases.sentences.txt"),
        &out,
    );
}

fn non_space(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Sentences are ordered, inside their block, separated only by white space,
/// and together hold every non-space character of the block.
fn check_sentences(article: &ingest::Article) {
    let sentences = segment::split(article);
    for (index, block) in article.blocks.iter().enumerate() {
        let spans: Vec<_> = sentences
            .iter()
            .filter(|s| s.paragraph == index)
            .map(|s| s.span.clone())
            .collect();
        let joined: String = spans.iter().map(|s| &article.text[s.clone()]).collect();
        assert_eq!(non_space(&joined), non_space(block.text(article)));
        for pair in spans.windows(2) {
            assert!(pair[0].end <= pair[1].start);
            assert!(article.text[pair[0].end..pair[1].start].trim().is_empty());
        }
        for span in &spans {
            assert!(block.span.start <= span.start && span.end <= block.span.end);
            assert!(!article.text[span.clone()].trim().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ingest_and_segment_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(article) = ingest::read(&bytes, None) {
            check_sentences(&article);
        }
        for name in ["x.html", "x.docx"] {
            if let Ok(article) = ingest::read(&bytes, Some(name)) {
                check_sentences(&article);
            }
        }
    }

    #[test]
    fn sentences_join_back_to_the_cleaned_text(
        text in "[A-ZĐa-zàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ0-9 .,;:!?…\"“”()\\-–\n]{1,400}",
    ) {
        if let Ok(article) = ingest::read(text.as_bytes(), None) {
            check_sentences(&article);
        }
        let html = format!("<html><body><h1>Tin</h1><p>{}</p></body></html>", text.replace('\n', "</p><p>"));
        if let Ok(article) = ingest::read(html.as_bytes(), None) {
            check_sentences(&article);
        }
    }
}
