//! WAL frames (pages written) per record, by b-tree: what a durable commit of the most frequent
//! record and of the heaviest one writes (and, with SQLCipher, encrypts). Page numbers come from
//! the WAL's frame headers, which SQLCipher leaves in clear; b-tree names from `dbstat`.
//! `cargo bench -p dentpro-core --bench frames` (counts, not times: the figures do not depend
//! on the disk). See ARCHITECTURE.md, Performance notes.
use dentpro_core::demo::demo_patient;
use std::collections::{BTreeMap, HashMap};

fn wal_pages(dir: &std::path::Path) -> Vec<(u32, bool)> {
    let wal = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-wal"))
        .unwrap();
    let bytes = std::fs::read(&wal).unwrap();
    let page = u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let salt = &bytes[16..24];
    let mut out = Vec::new();
    let mut off = 32;
    while off + 24 + page <= bytes.len() {
        if &bytes[off + 8..off + 16] != salt {
            break;
        }
        out.push((
            u32::from_be_bytes(bytes[off..off + 4].try_into().unwrap()),
            bytes[off + 4..off + 8] != [0, 0, 0, 0],
        ));
        off += 24 + page;
    }
    out
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ws");
    let (mut ws, desk) = dentpro_core::test_support::bench_desk(data.clone());
    let files: Vec<_> = (0..3000)
        .map(|k| ws.patients().register(&desk, &demo_patient(k)).unwrap().id)
        .collect();
    ws.ledger()
        .conn()
        .pragma_update(None, "wal_autocheckpoint", 0)
        .unwrap();
    let n = 200;
    for (what, run) in [("patient.viewed", 0), ("patient.registered", 1)] {
        ws.ledger()
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        for i in 0..n {
            if run == 0 {
                ws.patients().open(&desk, &files[(i * 7) % files.len()]).unwrap();
            } else {
                ws.patients().register(&desk, &demo_patient(10_000 + i)).unwrap();
            }
        }
        let pages = wal_pages(&data);
        let names: HashMap<u32, String> = ws
            .ledger()
            .conn()
            .prepare("SELECT pageno, name FROM dbstat")
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u32, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for (p, _) in &pages {
            *by.entry(names.get(p).cloned().unwrap_or_else(|| {
                if *p == 1 {
                    "page1".into()
                } else {
                    "free/new".to_owned()
                }
            }))
            .or_default() += 1;
        }
        eprintln!("{what}: {:.2} frames per record", pages.len() as f64 / n as f64);
        // The first 12 commits: which pages each wrote.
        let mut commit = Vec::new();
        let mut shown = 0;
        for (p, last) in &pages {
            commit.push(format!(
                "{}:{}",
                names
                    .get(p)
                    .map(|n| n.replace("sqlite_autoindex_", "ai_"))
                    .unwrap_or_default(),
                p
            ));
            if *last {
                if shown < 12 {
                    eprintln!("  commit: {}", commit.join(" "));
                }
                shown += 1;
                commit.clear();
            }
        }
        let mut v: Vec<_> = by.into_iter().collect();
        v.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        for (name, c) in v {
            eprintln!("   {name:<32} {:.2}", c as f64 / n as f64);
        }
    }
}
