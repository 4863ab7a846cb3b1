//! The branch server's append-only Merkle log, hashed exactly as RFC 6962 section 2.1
//! (Certificate Transparency): leaf hash = SHA-256(0x00 || data), interior node =
//! SHA-256(0x01 || left || right), empty tree = SHA-256(""). Each leaf's data is a record hash,
//! so a workstation can check with a few hashes that its records are in the log
//! ([`verify_inclusion`]) and that the log only ever grew between two signed checkpoints
//! ([`verify_consistency`]).
//!
//! **Why not a crate.** `ct-merkle` 0.3 hashes and verifies the RFC 6962 way, but its in-memory
//! tree only proves against its *current* size: the server must answer for any earlier
//! checkpoint (`inclusion_proof(index, size)`, `consistency_proof(old, new)`, `root_at(size)`),
//! and ct-merkle also stores every leaf value beside its hash. The algorithms are short and
//! fully specified (RFC 6962 section 2.1 for building, RFC 9162 section 2.1.3.2 / 2.1.4.2 for
//! verifying), so they are written here on top of `sha2`: this is a data structure over
//! SHA-256, not a cryptographic primitive. They are checked against the transparency-dev
//! (certificate-transparency-go) vectors and, exhaustively for small sizes, against a
//! direct transcription of the RFC's recursive definitions (`tests/merkle_vectors.rs`).
//!
//! **Storage.** [`MerkleLog`] keeps the hash of every *complete, aligned* subtree: level `k`
//! holds the hashes of leaves `[i * 2^k, (i + 1) * 2^k)`. That is about `2 n` hashes (64 MiB for
//! a million records), an append is amortised O(1) hashes, a root is O(log n) hashes for any
//! earlier size, and a proof is O(log² n) at worst (every proof element is either a stored
//! complete subtree or a right-edge subtree folded from O(log n) stored ones).

use sha2::{Digest, Sha256};

/// A SHA-256 output: a record hash, a leaf or node hash, or a tree root.
pub type Hash = [u8; 32];

/// RFC 6962 domain-separation prefixes: a leaf can never be taken for an interior node.
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// RFC 6962 leaf hash: SHA-256(0x00 || data). `data` may be any bytes (a record hash here).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The largest power of two strictly smaller than `n` (RFC 6962's split point `k`); `n >= 2`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// An append-only RFC 6962 Merkle tree kept in memory by the server (rebuilt from its log at
/// start). See the module documentation for its costs.
#[derive(Clone, Debug, Default)]
pub struct MerkleLog {
    /// `levels[k][i]` is the hash of the complete subtree over leaves `[i << k, (i + 1) << k)`;
    /// `levels[0]` are the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl MerkleLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf whose data is `data` (a record hash).
    pub fn push(&mut self, data: Hash) {
        self.push_leaf_hash(leaf_hash(&data));
    }

    /// Appends a leaf given by its already computed leaf hash (`leaf_hash(data)`), for leaves
    /// whose data is not a 32-byte record hash (the RFC test vectors use arbitrary bytes).
    pub fn push_leaf_hash(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            // An even count means the new node completed a pair: its parent is now complete.
            if !nodes.len().is_multiple_of(2) {
                break;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`, if the log has it.
    pub fn leaf_hash_at(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// Root of the whole tree (RFC 6962 MTH(D\[0:n\])).
    pub fn root(&self) -> Hash {
        self.subtree_root(0, self.len())
    }

    /// Root of the tree made of the first `size` leaves; `None` if the log is shorter.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        (size <= self.len()).then(|| self.subtree_root(0, size))
    }

    /// RFC 6962 PATH(index, D\[0:size\]): the audit path of leaf `index` in the tree of the first
    /// `size` leaves, ordered from the leaf's sibling up to the root's child. `None` if
    /// `index >= size` or the log has fewer than `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if index >= size || size > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Some(proof)
    }

    /// RFC 6962 PROOF(old_size, D\[0:new_size\]): the consistency proof between the trees of the
    /// first `old_size` and `new_size` leaves. Empty when `old_size` is 0 or equals `new_size`;
    /// `None` if `old_size > new_size` or the log has fewer than `new_size` leaves.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Option<Vec<Hash>> {
        if old_size > new_size || new_size > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        if old_size > 0 {
            self.subproof(old_size, 0, new_size, true, &mut proof);
        }
        Some(proof)
    }

    /// MTH(D[start:end]) for a range that occurs in RFC 6962's recursion: `start` is a multiple
    /// of the range's split point, so its left part is always a stored complete subtree.
    fn subtree_root(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start >> level) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.subtree_root(start, start + k),
            &self.subtree_root(start + k, end),
        )
    }

    /// RFC 6962 section 2.1.1 PATH(m, D[start:end]), with `m` relative to `start`.
    fn path(&self, m: u64, start: u64, end: u64, proof: &mut Vec<Hash>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, proof);
            proof.push(self.subtree_root(start + k, end));
        } else {
            self.path(m - k, start + k, end, proof);
            proof.push(self.subtree_root(start, start + k));
        }
    }

    /// RFC 6962 section 2.1.2 SUBPROOF(m, D[start:end], b), with `m` relative to `start`.
    fn subproof(&self, m: u64, start: u64, end: u64, whole_old_tree: bool, proof: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole_old_tree {
                proof.push(self.subtree_root(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, whole_old_tree, proof);
            proof.push(self.subtree_root(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, proof);
            proof.push(self.subtree_root(start, start + k));
        }
    }
}

impl Extend<Hash> for MerkleLog {
    /// Appends leaves whose data are the given record hashes.
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, data: I) {
        for item in data {
            self.push(item);
        }
    }
}

impl FromIterator<Hash> for MerkleLog {
    /// Builds a log from record hashes in log order (the server's start-up rebuild).
    fn from_iter<I: IntoIterator<Item = Hash>>(data: I) -> Self {
        let mut log = Self::new();
        log.extend(data);
        log
    }
}

/// Checks that `proof` proves leaf data `leaf_data` (a record hash) at `index` in the tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(leaf_data: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    verify_inclusion_by_leaf_hash(&leaf_hash(leaf_data), index, size, proof, root)
}

/// [`verify_inclusion`] for a leaf given by its leaf hash, whatever its data (RFC 9162 section
/// 2.1.3.2).
pub fn verify_inclusion_by_leaf_hash(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    // fn walks the leaf's position up the tree and sn the tree's last position; where they are
    // equal, the node has no right sibling at that level, which the RFC skips over.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (RFC 9162 section 2.1.4.2). Equal sizes need equal
/// roots and an empty proof; otherwise an empty old tree is consistent with any tree (the proof
/// must be empty); a shrinking tree is never consistent.
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    let Some((&first, rest)) = proof.split_first() else {
        return false;
    };
    // When the old tree is a complete subtree its root is a node of the new tree, and the proof
    // leaves it out: the verifier starts from the old root it already has.
    let (start, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (first, rest)
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (start, start);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == *old_root && sr == *new_root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_smaller_power_of_two() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (7, 4),
            (8, 4),
            (9, 8),
            (63, 32),
            (28937, 16384),
        ] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }

    #[test]
    fn empty_log() {
        let log = MerkleLog::new();
        assert!(log.is_empty());
        assert_eq!(log.root(), empty_root());
        assert_eq!(log.root_at(0), Some(empty_root()));
        assert_eq!(log.root_at(1), None);
        assert_eq!(log.inclusion_proof(0, 0), None);
        assert_eq!(log.consistency_proof(0, 0), Some(vec![]));
        assert_eq!(log.leaf_hash_at(0), None);
    }

    #[test]
    fn levels_hold_complete_subtrees_only() {
        let log: MerkleLog = (0u8..7).map(|i| [i; 32]).collect();
        let counts: Vec<usize> = log.levels.iter().map(Vec::len).collect();
        assert_eq!(counts, [7, 3, 1]);
        assert_eq!(log.leaf_hash_at(6), Some(leaf_hash(&[6; 32])));
    }
}
