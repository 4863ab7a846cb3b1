//! The Merkle log against the RFC 6962 known answers used by certificate-transparency-go and
//! transparency-dev/merkle (`testonly/constants.go`, `proof/verify_test.go`,
//! `testonly/reference_test.go`), exhaustively against a direct transcription of the RFC's
//! recursive definitions for small sizes, and with random sizes up to a few thousand.

use dentpro_sync::merkle::{
    Hash, MerkleLog, empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion,
    verify_inclusion_by_leaf_hash,
};
use proptest::prelude::*;

fn h(hex_str: &str) -> Hash {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

/// The eight leaf inputs of the vectors (arbitrary bytes, not record hashes).
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Leaf hashes of `LEAF_INPUTS` (`NodeHashes()[0]`).
const LEAF_HASHES: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];

/// Roots of the trees of the first 0..=8 leaves (`RootHashes()`).
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path), from `TestRefInclusionProof` and `inclusionProofs`.
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        2,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        1,
        2,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (old size, new size, consistency proof), from `TestRefConsistencyProof` and
/// `consistencyProofs`.
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn vector_log() -> MerkleLog {
    let mut log = MerkleLog::new();
    for input in LEAF_INPUTS {
        log.push_leaf_hash(leaf_hash(&hex::decode(input).unwrap()));
    }
    log
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

#[test]
fn leaf_hashes_and_empty_root() {
    for (input, expected) in LEAF_INPUTS.iter().zip(LEAF_HASHES) {
        assert_eq!(
            leaf_hash(&hex::decode(input).unwrap()),
            h(expected),
            "leaf {input:?}"
        );
    }
    assert_eq!(empty_root(), h(ROOTS[0]));
    // NodeHashes()[1][0]: the first two leaves' parent.
    assert_eq!(
        node_hash(&h(LEAF_HASHES[0]), &h(LEAF_HASHES[1])),
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")
    );
}

#[test]
fn roots_of_every_size() {
    let log = vector_log();
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(log.root_at(size as u64), Some(h(root)), "size {size}");
    }
    assert_eq!(log.root(), h(ROOTS[8]));
    assert_eq!(log.root_at(9), None);
    // Growing one leaf at a time gives the same roots as the finished log.
    let mut growing = MerkleLog::new();
    for (size, input) in LEAF_INPUTS.iter().enumerate() {
        growing.push_leaf_hash(leaf_hash(&hex::decode(input).unwrap()));
        assert_eq!(growing.root(), h(ROOTS[size + 1]));
    }
}

#[test]
fn inclusion_vectors() {
    let log = vector_log();
    for &(index, size, path) in INCLUSION {
        let expected = hashes(path);
        assert_eq!(
            log.inclusion_proof(index, size),
            Some(expected.clone()),
            "{index} in {size}"
        );
        let leaf = h(LEAF_HASHES[index as usize]);
        let root = h(ROOTS[size as usize]);
        assert!(
            verify_inclusion_by_leaf_hash(&leaf, index, size, &expected, &root),
            "{index} in {size}"
        );
        for (p_index, p_size, p_leaf, p_proof, p_root) in
            corrupt_inclusion(index, size, &leaf, &expected, &root)
        {
            assert!(
                !verify_inclusion_by_leaf_hash(&p_leaf, p_index, p_size, &p_proof, &p_root),
                "corrupted probe verified: {p_index} in {p_size}, proof {p_proof:?}"
            );
        }
    }
}

#[test]
fn consistency_vectors() {
    let log = vector_log();
    for &(old, new, proof) in CONSISTENCY {
        let expected = hashes(proof);
        assert_eq!(
            log.consistency_proof(old, new),
            Some(expected.clone()),
            "{old} -> {new}"
        );
        let (old_root, new_root) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        assert!(
            verify_consistency(old, &old_root, new, &new_root, &expected),
            "{old} -> {new}"
        );
        if expected.is_empty() {
            continue;
        }
        for (o, o_root, n, n_root, p) in corrupt_consistency(old, &old_root, new, &new_root, &expected) {
            assert!(
                !verify_consistency(o, &o_root, n, &n_root, &p),
                "corrupted probe verified: {o} -> {n}, proof {p:?}"
            );
        }
    }
}

/// transparency-dev's `TestVerifyConsistency` edge cases.
#[test]
fn consistency_edge_cases() {
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let empty = empty_root();
    // Always consistent.
    assert!(verify_consistency(0, &a, 0, &a, &[]));
    assert!(verify_consistency(0, &a, 1, &b, &[]));
    assert!(verify_consistency(1, &b, 1, &b, &[]));
    // Equal sizes need equal roots.
    assert!(!verify_consistency(0, &a, 0, &b, &[]));
    assert!(!verify_consistency(1, &a, 1, &b, &[]));
    assert!(!verify_consistency(1, &empty, 1, &b, &[]));
    // Shrinking.
    assert!(!verify_consistency(1, &a, 0, &b, &[]));
    assert!(!verify_consistency(2, &a, 1, &b, &[]));
    // Growing with an empty proof.
    assert!(!verify_consistency(1, &a, 2, &b, &[]));
    // Trivial cases with a non-empty proof.
    assert!(!verify_consistency(0, &empty, 0, &empty, &[empty]));
    assert!(!verify_consistency(0, &empty, 1, &empty, &[empty]));
    assert!(!verify_consistency(1, &empty, 1, &empty, &[empty]));

    let log = vector_log();
    assert_eq!(log.consistency_proof(0, 5), Some(vec![]));
    assert_eq!(log.consistency_proof(5, 5), Some(vec![]));
    assert_eq!(log.consistency_proof(6, 5), None);
    assert_eq!(log.consistency_proof(3, 9), None);
}

/// transparency-dev's `TestVerifyInclusion` / `TestVerifyInclusionSingleEntry` edge cases.
#[test]
fn inclusion_edge_cases() {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert!(!verify_inclusion_by_leaf_hash(
            &some,
            index,
            size,
            &[],
            &empty_root()
        ));
    }
    // A one-leaf tree's root is its leaf hash, with an empty path.
    let data = [7u8; 32];
    let leaf = leaf_hash(&data);
    assert!(verify_inclusion(&data, 0, 1, &[], &leaf));
    assert!(!verify_inclusion(&data, 0, 1, &[], &empty_root()));
    assert!(!verify_inclusion(&data, 0, 1, &[leaf], &leaf));

    let log = vector_log();
    assert_eq!(log.inclusion_proof(8, 8), None);
    assert_eq!(log.inclusion_proof(0, 9), None);
    assert_eq!(log.inclusion_proof(0, 0), None);
}

/// transparency-dev's `corruptInclusionProof`: each probe must fail.
fn corrupt_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Vec<(u64, u64, Hash, Vec<Hash>, Hash)> {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let p = proof.to_vec();
    let mut probes = vec![
        (index.wrapping_sub(1), size, *leaf, p.clone(), *root),
        (index + 1, size, *leaf, p.clone(), *root),
        (index ^ 2, size, *leaf, p.clone(), *root),
        (index, size * 2, *leaf, p.clone(), *root),
        (index, size / 2, *leaf, p.clone(), *root),
        (index, size, leaf_hash(b"WrongLeaf"), p.clone(), *root),
        (index, size, *leaf, p.clone(), empty_root()),
        (index, size, *leaf, p.clone(), some),
        (index, size, *leaf, [p.clone(), vec![*root]].concat(), *root),
        (index, size, *leaf, [vec![*root], p.clone()].concat(), *root),
        (index, size, *leaf, [vec![[0; 32]], p.clone()].concat(), *root),
    ];
    for i in 0..p.len() {
        let mut wrong = p.clone();
        wrong[i][0] ^= 8;
        probes.push((index, size, *leaf, wrong, *root));
    }
    if !p.is_empty() {
        probes.push((index, size, *leaf, p[..p.len() - 1].to_vec(), *root));
    }
    if p.len() > 1 {
        probes.push((
            index,
            size,
            *leaf,
            [vec![p[0], some], p[1..].to_vec()].concat(),
            *root,
        ));
    }
    probes
}

/// transparency-dev's `corruptConsistencyProof`: each probe must fail.
fn corrupt_consistency(
    old: u64,
    old_root: &Hash,
    new: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Vec<(u64, Hash, u64, Hash, Vec<Hash>)> {
    let p = proof.to_vec();
    let wrong_root = leaf_hash(b"WrongRoot");
    let mut probes = vec![
        (old - 1, *old_root, new, *new_root, p.clone()),
        (old + 1, *old_root, new, *new_root, p.clone()),
        (old ^ 2, *old_root, new, *new_root, p.clone()),
        (old, *old_root, new * 2, *new_root, p.clone()),
        (old, *old_root, new / 2, *new_root, p.clone()),
        (old, wrong_root, new, *new_root, p.clone()),
        (old, *old_root, new, wrong_root, p.clone()),
        (old, *new_root, new, *old_root, p.clone()),
        (old, *old_root, new, *new_root, vec![]),
        (
            old,
            *old_root,
            new,
            *new_root,
            [p.clone(), vec![[0; 32]]].concat(),
        ),
        (
            old,
            *old_root,
            new,
            *new_root,
            [p.clone(), vec![*old_root]].concat(),
        ),
        (
            old,
            *old_root,
            new,
            *new_root,
            [p.clone(), vec![*new_root]].concat(),
        ),
        (
            old,
            *old_root,
            new,
            *new_root,
            [vec![[0; 32]], p.clone()].concat(),
        ),
        (
            old,
            *old_root,
            new,
            *new_root,
            [vec![*old_root], p.clone()].concat(),
        ),
        (
            old,
            *old_root,
            new,
            *new_root,
            [vec![*new_root], p.clone()].concat(),
        ),
        (old, *old_root, new, *new_root, [vec![p[0]], p.clone()].concat()),
        (old, *old_root, new, *new_root, p[..p.len() - 1].to_vec()),
    ];
    for i in 0..p.len() {
        let mut wrong = p.clone();
        wrong[i][0] ^= 16;
        probes.push((old, *old_root, new, *new_root, wrong));
    }
    probes
}

/// RFC 6962 section 2.1 transcribed literally over a list of leaf hashes: the reference the
/// efficient log is checked against.
mod reference {
    use super::*;

    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    pub fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            [path(m, &leaves[..k]), vec![mth(&leaves[k..])]].concat()
        } else {
            [path(m - k, &leaves[k..]), vec![mth(&leaves[..k])]].concat()
        }
    }

    pub fn proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        if m == 0 { vec![] } else { subproof(m, leaves, true) }
    }

    fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![mth(leaves)] };
        }
        let k = split(n);
        if m <= k {
            [subproof(m, &leaves[..k], b), vec![mth(&leaves[k..])]].concat()
        } else {
            [subproof(m - k, &leaves[k..], false), vec![mth(&leaves[..k])]].concat()
        }
    }
}

fn record_hash(i: u64) -> Hash {
    let mut data = [0u8; 32];
    data[..8].copy_from_slice(&i.to_le_bytes());
    data[31] = 0xd7;
    data
}

/// Every inclusion and consistency proof of every tree of 1..=70 leaves equals the RFC's
/// definition, verifies, and fails with a flipped byte, a wrong size or a wrong root.
#[test]
fn exhaustive_small_trees() {
    const MAX: u64 = 70;
    let data: Vec<Hash> = (0..MAX).map(record_hash).collect();
    let leaves: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
    let log: MerkleLog = data.iter().copied().collect();
    assert_eq!(log.len(), MAX);
    let roots: Vec<Hash> = (0..=MAX).map(|n| reference::mth(&leaves[..n as usize])).collect();

    for size in 1..=MAX {
        let root = roots[size as usize];
        assert_eq!(log.root_at(size), Some(root), "root of {size}");
        for index in 0..size {
            let proof = log.inclusion_proof(index, size).unwrap();
            assert_eq!(
                proof,
                reference::path(index as usize, &leaves[..size as usize]),
                "{index} in {size}"
            );
            let d = &data[index as usize];
            assert!(
                verify_inclusion(d, index, size, &proof, &root),
                "{index} in {size}"
            );
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][i % 32] ^= 1;
                assert!(!verify_inclusion(d, index, size, &bad, &root));
            }
            // A wrong size with the root of that size. (With the root of the right size, a
            // larger size can pass the walk: the root, not the size alone, binds the tree.)
            if size < MAX {
                assert!(!verify_inclusion(
                    d,
                    index,
                    size + 1,
                    &proof,
                    &roots[size as usize + 1]
                ));
            }
            if size > 1 {
                assert!(!verify_inclusion(
                    d,
                    index,
                    size - 1,
                    &proof,
                    &roots[size as usize - 1]
                ));
                let other = (index + 1) % size;
                assert!(!verify_inclusion(d, other, size, &proof, &root));
                assert!(!verify_inclusion(
                    &data[other as usize],
                    index,
                    size,
                    &proof,
                    &root
                ));
            }
            assert!(!verify_inclusion(
                d,
                index,
                size,
                &proof,
                &roots[size as usize - 1]
            ));
        }
    }

    for new in 1..=MAX {
        let new_root = roots[new as usize];
        for old in 1..=new {
            let old_root = roots[old as usize];
            let proof = log.consistency_proof(old, new).unwrap();
            assert_eq!(
                proof,
                reference::proof(old as usize, &leaves[..new as usize]),
                "{old} -> {new}"
            );
            assert!(
                verify_consistency(old, &old_root, new, &new_root, &proof),
                "{old} -> {new}"
            );
            if old == new {
                assert!(proof.is_empty());
                continue;
            }
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][31 - i % 32] ^= 0x80;
                assert!(
                    !verify_consistency(old, &old_root, new, &new_root, &bad),
                    "{old} -> {new} flip {i}"
                );
            }
            assert!(!verify_consistency(old, &new_root, new, &new_root, &proof));
            assert!(!verify_consistency(old, &old_root, new, &old_root, &proof));
            assert!(!verify_consistency(
                old - 1,
                &roots[old as usize - 1],
                new,
                &new_root,
                &proof
            ));
            if new < MAX {
                assert!(!verify_consistency(
                    old,
                    &old_root,
                    new + 1,
                    &roots[new as usize + 1],
                    &proof
                ));
            }
            assert!(!verify_consistency(new, &new_root, old, &old_root, &proof));
        }
    }
}

/// A million records (the size the server must hold): fast to build, and proofs at the far
/// end verify against roots of earlier sizes.
#[test]
fn a_million_leaves() {
    const N: u64 = 1 << 20;
    let start = std::time::Instant::now();
    let log: MerkleLog = (0..N).map(record_hash).collect();
    let built = start.elapsed();
    assert_eq!(log.len(), N);
    let root = log.root();
    let (old, old_root) = (N - 12_345, log.root_at(N - 12_345).unwrap());
    let proof = log.consistency_proof(old, N).unwrap();
    assert!(verify_consistency(old, &old_root, N, &root, &proof));
    let proof = log.inclusion_proof(N - 1, N).unwrap();
    assert!(verify_inclusion(&record_hash(N - 1), N - 1, N, &proof, &root));
    let proof = log.inclusion_proof(777, old).unwrap();
    assert!(verify_inclusion(&record_hash(777), 777, old, &proof, &old_root));
    // Generous: about 2 M SHA-256 compressions; this is a regression guard, not a benchmark.
    assert!(
        built < std::time::Duration::from_secs(30),
        "building took {built:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random sizes up to a few thousand: proofs verify, and a flipped bit is caught.
    #[test]
    fn random_proofs_verify(
        size in 1u64..3000,
        index_seed in any::<u64>(),
        old_seed in any::<u64>(),
        flip in any::<(usize, usize, u8)>(),
    ) {
        let log: MerkleLog = (0..size).map(record_hash).collect();
        let root = log.root();
        let index = index_seed % size;
        let proof = log.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(&record_hash(index), index, size, &proof, &root));
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[flip.0 % proof.len()][flip.1 % 32] ^= 1 << (flip.2 % 8);
            prop_assert!(!verify_inclusion(&record_hash(index), index, size, &bad, &root));
        }

        let old = 1 + old_seed % size;
        let old_root = log.root_at(old).unwrap();
        let proof = log.consistency_proof(old, size).unwrap();
        prop_assert!(verify_consistency(old, &old_root, size, &root, &proof));
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[flip.0 % proof.len()][flip.1 % 32] ^= 1 << (flip.2 % 8);
            prop_assert!(!verify_consistency(old, &old_root, size, &root, &bad));
        }
        // Appending never changes an earlier root.
        let mut longer = log.clone();
        longer.push([0xee; 32]);
        prop_assert_eq!(longer.root_at(old), Some(old_root));
        prop_assert_eq!(longer.root_at(size), Some(root));
    }
}
