//! A small deterministic PDF writer for one-page documents of text lines, English or Arabic.
//!
//! printpdf does no shaping, so each line goes through the pipeline measured in
//! `../shared/TOOLING.md`: visual runs from the Unicode bidi algorithm (`unicode-bidi`), a font
//! per piece (Noto Naskh Arabic for Arabic letters, Noto Sans for the rest; neutrals keep the
//! font before them), each piece shaped by rustybuzz in its run's direction, and every glyph
//! placed at its advance, carrying the characters it stands for (the PDF's ToUnicode map, so
//! the text copies and searches in logical order).
//!
//! Same lines in, same bytes out, on every machine: the fonts are compiled in, the font
//! resource names are fixed, the info dates come from the caller (the record), and the
//! trailer's `/ID` (random in printpdf) is replaced by a hash of the document.

use printpdf::{
    Codepoint, FontId, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Pt, TextItem,
    TextMatrix, font::PdfFont,
};
use rustybuzz::{Direction, Face, UnicodeBuffer};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use unicode_bidi::{Level, ParagraphBidiInfo};

const SANS: &[u8] = include_bytes!("../../../../assets/fonts/NotoSans-Regular.subset.ttf");
const NASKH: &[u8] = include_bytes!("../../../../assets/fonts/NotoNaskhArabic-Regular.subset.ttf");

/// A4, in points; margins 20 mm.
const PAGE_W: f32 = 595.276;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.693;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextDirection {
    LeftToRight,
    RightToLeft,
}

/// One line of the page: its text, its size in points, and space above it.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub size: f32,
    pub gap_before: f32,
}

/// What a page says, in reading order, and its base direction.
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    pub direction: TextDirection,
    pub lines: Vec<Line>,
    /// The document's info dates (seconds since the epoch): the record's time, never the clock.
    pub created_at_unix: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Font {
    Sans,
    Naskh,
}

impl Font {
    fn id(self) -> FontId {
        // Fixed names: printpdf's own ids are random per process.
        FontId(match self {
            Font::Sans => "NotoSans".into(),
            Font::Naskh => "NotoNaskhArabic".into(),
        })
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Font::Sans => SANS,
            Font::Naskh => NASKH,
        }
    }

    fn face(self) -> &'static Face<'static> {
        static SANS_FACE: OnceLock<Face<'static>> = OnceLock::new();
        static NASKH_FACE: OnceLock<Face<'static>> = OnceLock::new();
        let cell = match self {
            Font::Sans => &SANS_FACE,
            Font::Naskh => &NASKH_FACE,
        };
        cell.get_or_init(|| Face::from_slice(self.bytes(), 0).expect("the shipped font parses"))
    }

    fn for_char(c: char, previous: Option<Font>) -> Font {
        if is_arabic(c) {
            Font::Naskh
        } else if c.is_alphanumeric() {
            Font::Sans
        } else {
            previous.unwrap_or(Font::Sans)
        }
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// `text` as a left-to-right island inside a right-to-left line (Unicode's LRI … PDI), so a
/// date, a name in Latin letters or an id keeps its own order there ("2026-03-02" after an
/// Arabic word would otherwise read "02-03-2026", as the bidi algorithm treats its digits as
/// Arabic numbers).
pub fn ltr_island(text: &str) -> String {
    format!("\u{2066}{text}\u{2069}")
}

fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// A shaped glyph placed on the line: font, glyph id, x/y in points from the line's start, and
/// the text it stands for.
struct Placed {
    font: Font,
    gid: u16,
    x: f32,
    y: f32,
    text: String,
}

/// Shapes `text` in `font` and `direction`; appends its glyphs at `x` and returns the new x.
fn shape_piece(text: &str, font: Font, rtl: bool, size: f32, mut x: f32, out: &mut Vec<Placed>) -> f32 {
    let face = font.face();
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.set_direction(if rtl {
        Direction::RightToLeft
    } else {
        Direction::LeftToRight
    });
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(face, &[], buffer);
    let scale = size / face.units_per_em() as f32;
    let infos = shaped.glyph_infos();
    let positions = shaped.glyph_positions();
    // A cluster's text is from its start to the next higher cluster start (logical order).
    let mut starts: Vec<usize> = infos.iter().map(|g| g.cluster as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    let cluster_text = |start: usize| {
        let end = starts.iter().find(|s| **s > start).copied().unwrap_or(text.len());
        &text[start..end]
    };
    let mut i = 0;
    while i < infos.len() {
        // The glyphs of one cluster are adjacent; each gets one of the cluster's characters
        // (the last one the rest), so copied text holds each character once.
        let cluster = infos[i].cluster as usize;
        let n = infos[i..]
            .iter()
            .take_while(|g| g.cluster as usize == cluster)
            .count();
        let chars: Vec<char> = cluster_text(cluster).chars().collect();
        let mut glyph_order: Vec<usize> = (i..i + n).collect();
        if rtl {
            glyph_order.reverse(); // logical order of the glyphs of an RTL cluster
        }
        let mut texts = vec![String::new(); n];
        for (k, gi) in glyph_order.iter().enumerate() {
            let slot = gi - i;
            texts[slot] = if k + 1 == n {
                chars.iter().skip(k).collect()
            } else {
                chars.get(k).map(|c| c.to_string()).unwrap_or_default()
            };
        }
        for (slot, g) in (i..i + n).enumerate() {
            let p = &positions[g];
            out.push(Placed {
                font,
                gid: infos[g].glyph_id as u16,
                x: x + p.x_offset as f32 * scale,
                y: p.y_offset as f32 * scale,
                text: std::mem::take(&mut texts[slot]),
            });
            x += p.x_advance as f32 * scale;
        }
        i += n;
    }
    x
}

/// Lays `text` out in visual order; returns the glyphs (x from 0) and the line's width.
fn layout_line(text: &str, base: TextDirection, size: f32) -> (Vec<Placed>, f32) {
    let level = match base {
        TextDirection::LeftToRight => Level::ltr(),
        TextDirection::RightToLeft => Level::rtl(),
    };
    let bidi = ParagraphBidiInfo::new(text, Some(level));
    let (levels, runs) = bidi.visual_runs(0..text.len());
    let mut placed = Vec::new();
    let mut x = 0.0;
    for run in runs {
        let rtl = levels[run.start].is_rtl();
        // Pieces of one font, in logical order; an RTL run shows its last piece first.
        let mut pieces: Vec<(Font, std::ops::Range<usize>)> = Vec::new();
        let mut previous = None;
        for (offset, c) in text[run.clone()].char_indices() {
            if is_bidi_control(c) {
                continue; // steers the order; drawn as nothing
            }
            let at = run.start + offset;
            let font = Font::for_char(c, previous);
            previous = Some(font);
            match pieces.last_mut() {
                Some((f, range)) if *f == font => range.end = at + c.len_utf8(),
                _ => pieces.push((font, at..at + c.len_utf8())),
            }
        }
        if rtl {
            pieces.reverse();
        }
        for (font, range) in pieces {
            x = shape_piece(&text[range], font, rtl, size, x, &mut placed);
        }
    }
    (placed, x)
}

/// Renders `page` as PDF bytes: one A4 page, the lines from the top, aligned to the start
/// side of the page's direction.
pub fn render(page: &Page) -> Vec<u8> {
    let mut doc = PdfDocument::new(&page.title);
    let mut warnings = Vec::new();
    for font in [Font::Sans, Font::Naskh] {
        let parsed = ParsedFont::from_bytes(font.bytes(), 0, &mut warnings).expect("the shipped font parses");
        doc.resources.fonts.map.insert(font.id(), PdfFont::new(parsed));
    }
    let date = printpdf::date::OffsetDateTime::from_unix_timestamp(page.created_at_unix)
        .unwrap_or_else(|_| printpdf::date::OffsetDateTime::from_unix_timestamp(0).expect("epoch"));
    let info = &mut doc.metadata.info;
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;
    info.producer = "DentPro".into();
    info.creator = "DentPro".into();
    info.identifier = String::new();

    let mut ops = vec![Op::StartTextSection];
    let mut y = PAGE_H - MARGIN;
    let mut current: Option<(Font, f32)> = None;
    for line in &page.lines {
        y -= line.gap_before + line.size * 1.4;
        let (glyphs, width) = layout_line(&line.text, page.direction, line.size);
        let x0 = match page.direction {
            TextDirection::LeftToRight => MARGIN,
            TextDirection::RightToLeft => PAGE_W - MARGIN - width,
        };
        for g in glyphs {
            if current != Some((g.font, line.size)) {
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(g.font.id()),
                    size: Pt(line.size),
                });
                current = Some((g.font, line.size));
            }
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x0 + g.x), Pt(y + g.y)),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::GlyphIds(vec![Codepoint::with_cid(g.gid, 0.0, g.text)])],
            });
        }
    }
    ops.push(Op::EndTextSection);
    let pdf_page = PdfPage::new(Mm::from(Pt(PAGE_W)), Mm::from(Pt(PAGE_H)), ops);
    // The shipped fonts are already cut to the scripts used; printpdf's subsetter is behind
    // its heavy `text_layout` feature.
    let opts = PdfSaveOptions {
        subset_fonts: false,
        ..Default::default()
    };
    let bytes = doc.with_pages(vec![pdf_page]).save(&opts, &mut Vec::new());
    fix_id(bytes)
}

/// Replaces the trailer's two random `/ID` strings (same length) by a hash of the document with
/// them blanked, so equal documents are equal bytes.
fn fix_id(mut bytes: Vec<u8>) -> Vec<u8> {
    let Some(at) = find_last(&bytes, b"/ID") else {
        return bytes;
    };
    let mut strings = Vec::new();
    let mut i = at;
    while strings.len() < 2 && i < bytes.len() {
        if bytes[i] == b'(' {
            let end = bytes[i..].iter().position(|b| *b == b')').map(|p| i + p);
            let Some(end) = end else { break };
            strings.push(i + 1..end);
            i = end;
        }
        i += 1;
    }
    for range in &strings {
        bytes[range.clone()].fill(b'0');
    }
    let digest = hex::encode(Sha256::digest(&bytes));
    for range in strings {
        let n = range.len().min(digest.len());
        bytes[range.start..range.start + n].copy_from_slice(&digest.as_bytes()[..n]);
    }
    bytes
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Splits `text` at spaces into lines that fit the page's width at `size` (a single word
/// wider than the page stays whole).
pub fn wrap(text: &str, direction: TextDirection, size: f32) -> Vec<String> {
    let max = PAGE_W - 2.0 * MARGIN;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if !current.is_empty() && layout_line(&candidate, direction, size).1 > max {
            lines.push(std::mem::replace(&mut current, word.to_owned()));
        } else {
            current = candidate;
        }
    }
    lines.push(current);
    lines
}
