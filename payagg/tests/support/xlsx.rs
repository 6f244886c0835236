//! Reads back what the tests need from an xlsx file (a ZIP of XML parts): each sheet's cells
//! with their shared strings resolved, and the fill colour of each cell's style.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One cell: its text (shared string resolved, or the number as written) and the ARGB of
/// its solid fill, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) fill: Option<String>,
}

/// A workbook as sheets of rows of cells (absent cells are empty and unfilled).
#[derive(Debug)]
pub(crate) struct Book {
    pub(crate) sheets: BTreeMap<String, Vec<Vec<Cell>>>,
}

fn part(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> String {
    let mut s = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .unwrap()
        .map(|a| a.unescape_value().unwrap().into_owned())
}

/// Walk `xml`, calling `f` with each start or empty element (and whether it was empty), and
/// `text` with the text of each element (entities resolved).
fn walk(xml: &str, mut f: impl FnMut(&BytesStart<'_>, bool), mut text: impl FnMut(&str)) {
    let mut r = Reader::from_str(xml);
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) => f(&e, false),
            Event::Empty(e) => f(&e, true),
            Event::Text(t) => text(&t.decode().unwrap()),
            Event::GeneralRef(g) => {
                let name = g.decode().unwrap();
                let escaped = format!("&{name};");
                text(&quick_xml::escape::unescape(&escaped).unwrap());
            }
            Event::End(e) => f(
                &BytesStart::new(format!("/{}", String::from_utf8_lossy(e.name().as_ref()))),
                true,
            ),
            Event::Eof => break,
            _ => {}
        }
    }
}

pub(crate) fn read(path: &Path) -> Book {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    // Shared strings, in order.
    let mut strings: Vec<String> = Vec::new();
    {
        let xml = part(&mut zip, "xl/sharedStrings.xml");
        let cur = std::cell::RefCell::new(String::new());
        let done = std::cell::RefCell::new(Vec::new());
        walk(
            &xml,
            |e, _| match e.name().as_ref() {
                b"si" => cur.borrow_mut().clear(),
                b"/si" => done.borrow_mut().push(cur.borrow().clone()),
                _ => {}
            },
            |t| cur.borrow_mut().push_str(t),
        );
        strings.extend(done.into_inner());
    }
    // Fills (the fgColor of solid patterns), then each cell format's fill.
    let styles = part(&mut zip, "xl/styles.xml");
    let mut fills: Vec<Option<String>> = Vec::new();
    let mut xf_fill: Vec<usize> = Vec::new();
    let mut section = String::new();
    walk(
        &styles,
        |e, _| {
            let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
            match name.as_str() {
                "fills" | "cellXfs" | "cellStyleXfs" => section = name,
                "/fills" | "/cellXfs" | "/cellStyleXfs" => section.clear(),
                "fill" if section == "fills" => fills.push(None),
                "fgColor" if section == "fills" => {
                    if let (Some(last), Some(rgb)) = (fills.last_mut(), attr(e, "rgb")) {
                        *last = Some(rgb);
                    }
                }
                "xf" if section == "cellXfs" => {
                    xf_fill.push(attr(e, "fillId").map_or(0, |v| v.parse().unwrap()));
                }
                _ => {}
            }
        },
        |_| {},
    );
    // Sheet names in order: rust_xlsxwriter writes the n-th as worksheets/sheet{n}.xml.
    let names: Vec<String> = {
        let mut v = Vec::new();
        walk(
            &part(&mut zip, "xl/workbook.xml"),
            |e, _| {
                if e.name().as_ref() == b"sheet" {
                    v.push(attr(e, "name").unwrap());
                }
            },
            |_| {},
        );
        v
    };
    let mut sheets = BTreeMap::new();
    for (i, name) in names.into_iter().enumerate() {
        let xml = part(&mut zip, &format!("xl/worksheets/sheet{}.xml", i + 1));
        let rows = std::cell::RefCell::new(Vec::<Vec<Cell>>::new());
        let cell = std::cell::RefCell::new(None::<Pending>);
        let in_v = std::cell::Cell::new(false);
        walk(
            &xml,
            |e, empty| match e.name().as_ref() {
                b"row" => rows.borrow_mut().push(Vec::new()),
                b"c" => {
                    let style = attr(e, "s").map(|s| s.parse().unwrap());
                    let col = column(&attr(e, "r").unwrap());
                    *cell.borrow_mut() = Some((col, attr(e, "t"), style, String::new()));
                    if empty {
                        finish_cell(&cell, &rows, &strings, &fills, &xf_fill);
                    }
                }
                b"/c" => finish_cell(&cell, &rows, &strings, &fills, &xf_fill),
                b"v" | b"t" => in_v.set(true),
                b"/v" | b"/t" => in_v.set(false),
                _ => {}
            },
            |t| {
                if in_v.get()
                    && let Some((_, _, _, text)) = cell.borrow_mut().as_mut()
                {
                    text.push_str(t);
                }
            },
        );
        sheets.insert(name, rows.into_inner());
    }
    Book { sheets }
}

/// A cell being read: column, type, style index, text.
type Pending = (usize, Option<String>, Option<usize>, String);

/// The 0-based column of a cell reference such as `AB12`.
fn column(r: &str) -> usize {
    r.bytes()
        .take_while(u8::is_ascii_uppercase)
        .fold(0, |n, b| n * 26 + usize::from(b - b'A' + 1))
        - 1
}

fn finish_cell(
    cell: &std::cell::RefCell<Option<Pending>>,
    rows: &std::cell::RefCell<Vec<Vec<Cell>>>,
    strings: &[String],
    fills: &[Option<String>],
    xf_fill: &[usize],
) {
    let Some((col, kind, style, raw)) = cell.borrow_mut().take() else {
        return;
    };
    let text = if kind.as_deref() == Some("s") {
        strings[raw.parse::<usize>().unwrap()].clone()
    } else {
        raw
    };
    let fill = style
        .and_then(|s| xf_fill.get(s).copied())
        .and_then(|f| fills.get(f).cloned().flatten());
    let mut rows = rows.borrow_mut();
    let row = rows.last_mut().expect("a cell inside a row");
    while row.len() < col {
        row.push(Cell {
            text: String::new(),
            fill: None,
        });
    }
    row.push(Cell { text, fill });
}
