-- Fewer, larger merges of the search index. FTS5 writes each transaction's terms as a new
-- segment and, by default, merges every 4 segments of a level; every registration paid for
-- that merging (over half of the index's cost per commit). Merging 16 at a time rewrites each
-- term about half as often; searches read a few more segments (type-ahead stays far under its
-- 5 ms p99 budget, see crates/core/benches/foundation.rs).
INSERT INTO patients_fts (patients_fts, rank) VALUES ('automerge', 16);
