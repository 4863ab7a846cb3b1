//! SQLCipher's crypto provider made of RustCrypto crates.
//!
//! SQLCipher encrypts every database page with AES-256-CBC under a fresh random IV and
//! authenticates it with an HMAC over the ciphertext, the IV and the page number. It asks a
//! *provider* for those primitives; the bundled SQLCipher uses OpenSSL 3, whose provider
//! fetches the algorithm, builds a context and keys it anew on every page (`EVP_MAC_fetch`,
//! `EVP_CipherInit_ex`) and takes a global lock for the IV's random bytes. On DentPro's write
//! path that overhead was as large as the cipher itself: about 8 µs of a 19 µs page.
//!
//! This crate registers a provider with the same algorithms and the same bytes on disk
//! (`aes` + `cbc`, `hmac` + `sha1`/`sha2`, `pbkdf2`, a thread-local CSPRNG from `rand`), so a
//! database written through it opens with any SQLCipher 4 and the other way round (the tests
//! check both against the OpenSSL provider and an independent SQLCipher build). No primitive
//! is written here: this is the glue SQLCipher's provider interface asks for
//! (`struct sqlcipher_provider` in SQLCipher's `crypto.h`).
//!
//! [`install`] must run before the first encrypted connection is opened; it is idempotent.
//!
//! This is the workspace's one crate with `unsafe` code: the provider interface is C function
//! pointers over raw buffers. Each `unsafe` block says which of SQLCipher's guarantees it
//! relies on.

use aes::Aes256;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

const SQLITE_OK: c_int = 0;
const SQLITE_ERROR: c_int = 1;

// SQLCipher's constants (crypto.h): cipher modes and algorithm ids.
const SQLCIPHER_ENCRYPT: c_int = 1;
const SQLCIPHER_DECRYPT: c_int = 0;
const HMAC_SHA1: c_int = 0;
const HMAC_SHA256: c_int = 1;
const HMAC_SHA512: c_int = 2;
const PBKDF2_HMAC_SHA1: c_int = 0;
const PBKDF2_HMAC_SHA256: c_int = 1;
const PBKDF2_HMAC_SHA512: c_int = 2;

const KEY_SIZE: c_int = 32;
const BLOCK_SIZE: c_int = 16;

/// The provider's name, as `PRAGMA cipher_provider` reports it.
pub const PROVIDER_NAME: &str = "rustcrypto";

/// `struct sqlcipher_provider`, field for field (SQLCipher 4.x, `crypto.h`).
#[repr(C)]
struct Provider {
    init: Option<unsafe extern "C" fn() -> c_int>,
    shutdown: Option<unsafe extern "C" fn()>,
    get_provider_name: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    add_random: unsafe extern "C" fn(*mut c_void, *const c_void, c_int) -> c_int,
    random: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    hmac: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        *mut u8,
    ) -> c_int,
    kdf: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        c_int,
        c_int,
        *mut u8,
    ) -> c_int,
    cipher: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        *const u8,
        c_int,
        *mut u8,
    ) -> c_int,
    get_cipher: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    get_key_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_iv_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_block_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_hmac_sz: unsafe extern "C" fn(*mut c_void, c_int) -> c_int,
    ctx_init: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    ctx_free: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    fips_status: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_provider_version: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    next: *mut Provider,
}

unsafe extern "C" {
    fn sqlcipher_register_provider(p: *mut Provider) -> c_int;
    fn sqlcipher_malloc(size: u64) -> *mut c_void;
}

/// Registers the provider as SQLCipher's default, once per process. Connections opened
/// afterwards use it; call it before opening any encrypted database.
pub fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(register).clone()
}

fn register() -> Result<(), String> {
    // SAFETY: `sqlite3_initialize` is safe to call at any time and sets up SQLCipher's
    // mutexes, which `sqlcipher_register_provider` takes. The provider struct is allocated
    // with SQLCipher's own allocator because SQLCipher frees registered providers with
    // `sqlcipher_free` at `sqlite3_shutdown`; it is fully written before it is registered,
    // and SQLCipher owns it from then on.
    unsafe {
        let rc = rusqlite::ffi::sqlite3_initialize();
        if rc != SQLITE_OK {
            return Err(format!("sqlite3_initialize failed ({rc})"));
        }
        let p = sqlcipher_malloc(std::mem::size_of::<Provider>() as u64).cast::<Provider>();
        if p.is_null() {
            return Err("out of memory registering the page cipher".into());
        }
        p.write(Provider {
            init: None,
            shutdown: None,
            get_provider_name,
            add_random,
            random,
            hmac,
            kdf,
            cipher,
            get_cipher,
            get_key_sz,
            get_iv_sz,
            get_block_sz,
            get_hmac_sz,
            ctx_init,
            ctx_free,
            fips_status,
            get_provider_version,
            next: std::ptr::null_mut(),
        });
        match sqlcipher_register_provider(p) {
            SQLITE_OK => Ok(()),
            rc => Err(format!("sqlcipher_register_provider failed ({rc})")),
        }
    }
}

/// A slice from SQLCipher's pointer and length; `None` for a negative length or a null
/// pointer with a non-zero length.
///
/// # Safety
/// `ptr` must point to `len` readable bytes that stay valid and unchanged for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: c_int) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    if len == 0 {
        return Some(&[]);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

fn status(ok: bool) -> c_int {
    if ok { SQLITE_OK } else { SQLITE_ERROR }
}

unsafe extern "C" fn get_provider_name(_ctx: *mut c_void) -> *const c_char {
    c"rustcrypto".as_ptr()
}

unsafe extern "C" fn get_provider_version(_ctx: *mut c_void) -> *const c_char {
    c"aes 0.9, cbc 0.2, hmac 0.13, sha2 0.11, pbkdf2 0.13".as_ptr()
}

/// SQLCipher may offer extra entropy; the thread-local CSPRNG reseeds from the OS itself.
unsafe extern "C" fn add_random(_ctx: *mut c_void, _buffer: *const c_void, _length: c_int) -> c_int {
    SQLITE_OK
}

/// Random bytes for each page's IV and reserve: `rand`'s thread-local ChaCha CSPRNG, seeded
/// and periodically reseeded from the operating system, with no lock.
unsafe extern "C" fn random(_ctx: *mut c_void, buffer: *mut c_void, length: c_int) -> c_int {
    let Ok(len) = usize::try_from(length) else {
        return SQLITE_ERROR;
    };
    if len == 0 {
        return SQLITE_OK;
    }
    if buffer.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes a writable buffer of `length` bytes that nothing else reads
    // during the call.
    let out = unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), len) };
    rand::rng().fill_bytes(out);
    SQLITE_OK
}

/// HMAC of `in || in2` under `key`, the digest's full length written to `out`.
#[allow(clippy::too_many_arguments)] // SQLCipher's signature
unsafe extern "C" fn hmac(
    _ctx: *mut c_void,
    algorithm: c_int,
    key: *const u8,
    key_sz: c_int,
    input: *const u8,
    in_sz: c_int,
    input2: *const u8,
    in2_sz: c_int,
    out: *mut u8,
) -> c_int {
    if input.is_null() || out.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes a key and a first input of the stated sizes, valid for the
    // call; `bytes` refuses negative sizes.
    let (Some(key), Some(first)) = (unsafe { bytes(key, key_sz) }, unsafe { bytes(input, in_sz) }) else {
        return SQLITE_ERROR;
    };
    // SAFETY: the second input, when given, is valid for its stated size (SQLCipher passes
    // the page number's 4 bytes); a null one means absent.
    let second = match (input2.is_null(), unsafe { bytes(input2, in2_sz) }) {
        (true, _) => &[][..],
        (false, Some(b)) => b,
        (false, None) => return SQLITE_ERROR,
    };
    fn mac<M: Mac + KeyInit>(key: &[u8], first: &[u8], second: &[u8], out: *mut u8) -> bool {
        let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
            return false;
        };
        m.update(first);
        m.update(second);
        let tag = m.finalize().into_bytes();
        // SAFETY: see the caller: `out` has room for this digest.
        unsafe { std::ptr::copy_nonoverlapping(tag.as_ptr(), out, tag.len()) };
        true
    }
    status(match algorithm {
        HMAC_SHA1 => mac::<Hmac<sha1::Sha1>>(key, first, second, out),
        HMAC_SHA256 => mac::<Hmac<sha2::Sha256>>(key, first, second, out),
        HMAC_SHA512 => mac::<Hmac<sha2::Sha512>>(key, first, second, out),
        _ => false,
    })
}

/// PBKDF2-HMAC with the algorithm's digest: the key of a passphrase-keyed database and, for
/// every database, the HMAC key derived from the encryption key.
#[allow(clippy::too_many_arguments)] // SQLCipher's signature
unsafe extern "C" fn kdf(
    _ctx: *mut c_void,
    algorithm: c_int,
    pass: *const u8,
    pass_sz: c_int,
    salt: *const u8,
    salt_sz: c_int,
    workfactor: c_int,
    key_sz: c_int,
    key: *mut u8,
) -> c_int {
    // SAFETY: SQLCipher passes valid input buffers of the stated sizes and an output buffer
    // of `key_sz` bytes that overlaps neither.
    let (Some(pass), Some(salt)) = (unsafe { bytes(pass, pass_sz) }, unsafe { bytes(salt, salt_sz) }) else {
        return SQLITE_ERROR;
    };
    let (Ok(rounds), Ok(len)) = (u32::try_from(workfactor), usize::try_from(key_sz)) else {
        return SQLITE_ERROR;
    };
    if rounds == 0 || key.is_null() {
        return SQLITE_ERROR;
    }
    // SAFETY: SQLCipher's output buffer holds `key_sz` bytes and overlaps neither input.
    let out = unsafe { std::slice::from_raw_parts_mut(key, len) };
    match algorithm {
        PBKDF2_HMAC_SHA1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pass, salt, rounds, out),
        PBKDF2_HMAC_SHA256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pass, salt, rounds, out),
        PBKDF2_HMAC_SHA512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pass, salt, rounds, out),
        _ => return SQLITE_ERROR,
    }
    SQLITE_OK
}

/// AES-256-CBC without padding over `in_sz` bytes (a whole number of blocks: a page less its
/// reserve), from `input` to `out`.
#[allow(clippy::too_many_arguments)] // SQLCipher's signature
unsafe extern "C" fn cipher(
    _ctx: *mut c_void,
    mode: c_int,
    key: *const u8,
    key_sz: c_int,
    iv: *const u8,
    input: *const u8,
    in_sz: c_int,
    out: *mut u8,
) -> c_int {
    if key_sz != KEY_SIZE || key.is_null() || iv.is_null() || input.is_null() || out.is_null() {
        return SQLITE_ERROR;
    }
    let Ok(len) = usize::try_from(in_sz) else {
        return SQLITE_ERROR;
    };
    if len % BLOCK_SIZE as usize != 0 {
        return SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes a 32-byte key, a 16-byte IV, and input and output buffers of
    // `in_sz` bytes. They are distinct buffers; should they ever be the same one, the cipher
    // runs in place on a single mutable slice instead of aliasing it.
    let (key, iv) = unsafe {
        (
            &*key.cast::<[u8; KEY_SIZE as usize]>(),
            &*iv.cast::<[u8; BLOCK_SIZE as usize]>(),
        )
    };
    let in_place = std::ptr::eq(input, out);
    // SAFETY: `out` holds `in_sz` writable bytes; when it is also the input, only this one
    // slice refers to it.
    let out_bytes = unsafe { std::slice::from_raw_parts_mut(out, len) };
    let (out_blocks, _) = aes::Block::slice_as_chunks_mut(out_bytes);
    let done = if in_place {
        match mode {
            SQLCIPHER_ENCRYPT => {
                cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_blocks(out_blocks);
                true
            }
            SQLCIPHER_DECRYPT => {
                cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_blocks(out_blocks);
                true
            }
            _ => false,
        }
    } else {
        // SAFETY: `input` holds `in_sz` readable bytes, distinct from `out` (checked above).
        let in_bytes = unsafe { std::slice::from_raw_parts(input, len) };
        let (in_blocks, _) = aes::Block::slice_as_chunks(in_bytes);
        match mode {
            SQLCIPHER_ENCRYPT => cbc::Encryptor::<Aes256>::new(key.into(), iv.into())
                .encrypt_blocks_b2b(in_blocks, out_blocks)
                .is_ok(),
            SQLCIPHER_DECRYPT => cbc::Decryptor::<Aes256>::new(key.into(), iv.into())
                .decrypt_blocks_b2b(in_blocks, out_blocks)
                .is_ok(),
            _ => false,
        }
    };
    status(done)
}

unsafe extern "C" fn get_cipher(_ctx: *mut c_void) -> *const c_char {
    // The name OpenSSL's provider reports (`OBJ_nid2sn`), so `PRAGMA cipher` reads the same.
    c"AES-256-CBC".as_ptr()
}

unsafe extern "C" fn get_key_sz(_ctx: *mut c_void) -> c_int {
    KEY_SIZE
}

unsafe extern "C" fn get_iv_sz(_ctx: *mut c_void) -> c_int {
    BLOCK_SIZE
}

unsafe extern "C" fn get_block_sz(_ctx: *mut c_void) -> c_int {
    BLOCK_SIZE
}

unsafe extern "C" fn get_hmac_sz(_ctx: *mut c_void, algorithm: c_int) -> c_int {
    match algorithm {
        HMAC_SHA1 => 20,
        HMAC_SHA256 => 32,
        HMAC_SHA512 => 64,
        _ => 0,
    }
}

/// No per-database state: every call gets its key from SQLCipher.
unsafe extern "C" fn ctx_init(ctx: *mut *mut c_void) -> c_int {
    if !ctx.is_null() {
        // SAFETY: SQLCipher passes a pointer to its context slot.
        unsafe { *ctx = std::ptr::null_mut() };
    }
    SQLITE_OK
}

unsafe extern "C" fn ctx_free(_ctx: *mut *mut c_void) -> c_int {
    SQLITE_OK
}

unsafe extern "C" fn fips_status(_ctx: *mut c_void) -> c_int {
    0
}

#[cfg(test)]
mod tests {
    //! The glue against published test vectors, called as SQLCipher calls it.
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn len(b: &[u8]) -> c_int {
        c_int::try_from(b.len()).unwrap()
    }

    fn call_hmac(algorithm: c_int, key: &[u8], first: &[u8], second: Option<&[u8]>) -> (c_int, Vec<u8>) {
        let mut out = vec![0u8; 64];
        let (p2, n2) = second.map_or((std::ptr::null(), 0), |s| (s.as_ptr(), len(s)));
        // SAFETY: valid buffers of the stated sizes; `out` holds any digest.
        let rc = unsafe {
            hmac(
                std::ptr::null_mut(),
                algorithm,
                key.as_ptr(),
                len(key),
                first.as_ptr(),
                len(first),
                p2,
                n2,
                out.as_mut_ptr(),
            )
        };
        // SAFETY: no context is used.
        out.truncate(usize::try_from(unsafe { get_hmac_sz(std::ptr::null_mut(), algorithm) }).unwrap());
        (rc, out)
    }

    #[test]
    fn hmac_matches_rfc_4231_over_both_inputs() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?", given in two
        // parts as SQLCipher gives a page and its number.
        let (first, second) = b"what do ya want for nothing?".split_at(20);
        let (rc, tag) = call_hmac(HMAC_SHA256, b"Jefe", first, Some(second));
        assert_eq!(rc, SQLITE_OK);
        assert_eq!(
            tag,
            unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        let (rc, tag) = call_hmac(HMAC_SHA512, b"Jefe", b"what do ya want for nothing?", None);
        assert_eq!(rc, SQLITE_OK);
        assert_eq!(
            tag,
            unhex(
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
            )
        );
        assert_eq!(call_hmac(7, b"Jefe", b"x", None).0, SQLITE_ERROR);
    }

    #[test]
    fn cbc_matches_nist_sp_800_38a_both_ways() {
        // NIST SP 800-38A, F.2.5 / F.2.6 (CBC-AES256).
        let key = unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv = unhex("000102030405060708090a0b0c0d0e0f");
        let plain = unhex(
            "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
             30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
        );
        let sealed = unhex(
            "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d
             39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b",
        );
        let run = |mode: c_int, input: &[u8], in_sz: c_int| {
            let mut out = vec![0u8; input.len()];
            // SAFETY: 32-byte key, 16-byte IV, buffers of `input.len()` ≥ `in_sz` bytes.
            let rc = unsafe {
                cipher(
                    std::ptr::null_mut(),
                    mode,
                    key.as_ptr(),
                    KEY_SIZE,
                    iv.as_ptr(),
                    input.as_ptr(),
                    in_sz,
                    out.as_mut_ptr(),
                )
            };
            (rc, out)
        };
        assert_eq!(
            run(SQLCIPHER_ENCRYPT, &plain, len(&plain)),
            (SQLITE_OK, sealed.clone())
        );
        assert_eq!(
            run(SQLCIPHER_DECRYPT, &sealed, len(&sealed)),
            (SQLITE_OK, plain.clone())
        );
        // In place, should SQLCipher ever pass one buffer as both.
        let mut buf = plain.clone();
        // SAFETY: as above, with input and output the same buffer.
        let rc = unsafe {
            cipher(
                std::ptr::null_mut(),
                SQLCIPHER_ENCRYPT,
                key.as_ptr(),
                KEY_SIZE,
                iv.as_ptr(),
                buf.as_ptr(),
                len(&buf),
                buf.as_mut_ptr(),
            )
        };
        assert_eq!((rc, buf), (SQLITE_OK, sealed));
        // Not a whole number of blocks, a negative size, an unknown mode: refused.
        assert_eq!(run(SQLCIPHER_ENCRYPT, &plain, 17).0, SQLITE_ERROR);
        assert_eq!(run(SQLCIPHER_ENCRYPT, &plain, -16).0, SQLITE_ERROR);
        assert_eq!(run(5, &plain, 16).0, SQLITE_ERROR);
    }

    #[test]
    fn kdf_matches_published_pbkdf2_vectors() {
        let derive = |algorithm: c_int, rounds: c_int, size: usize| {
            let mut out = vec![0u8; size];
            // SAFETY: valid input buffers; `out` holds `size` bytes.
            let rc = unsafe {
                kdf(
                    std::ptr::null_mut(),
                    algorithm,
                    b"password".as_ptr(),
                    8,
                    b"salt".as_ptr(),
                    4,
                    rounds,
                    len(&out),
                    out.as_mut_ptr(),
                )
            };
            (rc, out)
        };
        // RFC 6070 (PBKDF2-HMAC-SHA1, 2 iterations) and the matching SHA-256 vector.
        assert_eq!(
            derive(PBKDF2_HMAC_SHA1, 2, 20),
            (SQLITE_OK, unhex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"))
        );
        assert_eq!(
            derive(PBKDF2_HMAC_SHA256, 1, 32),
            (
                SQLITE_OK,
                unhex("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
            )
        );
        assert_eq!(derive(PBKDF2_HMAC_SHA512, 0, 32).0, SQLITE_ERROR);
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        let mut a = [0u8; 80];
        let mut b = [0u8; 80];
        // SAFETY: writable buffers of 80 bytes.
        unsafe {
            assert_eq!(random(std::ptr::null_mut(), a.as_mut_ptr().cast(), 80), SQLITE_OK);
            assert_eq!(random(std::ptr::null_mut(), b.as_mut_ptr().cast(), 80), SQLITE_OK);
            assert_eq!(
                random(std::ptr::null_mut(), a.as_mut_ptr().cast(), -1),
                SQLITE_ERROR
            );
        }
        assert_ne!(a, b);
    }

    #[test]
    fn an_installed_provider_encrypts_and_authenticates_pages() {
        install().unwrap();
        install().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let key = "PRAGMA key = \"x'2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c'\";";
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(key).unwrap();
            let provider: String = conn
                .query_row("PRAGMA cipher_provider", [], |r| r.get(0))
                .unwrap();
            assert_eq!(provider, PROVIDER_NAME);
            conn.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('Layla Haddad');")
                .unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(12).any(|w| w == b"Layla Haddad"),
            "the text is encrypted"
        );
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(key).unwrap();
        let v: String = conn.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(v, "Layla Haddad");
        drop(conn);
        // One byte changed in the second page's ciphertext: its HMAC no longer matches.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[4096 + 100] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(key).unwrap();
        assert!(
            conn.query_row("SELECT v FROM t", [], |r| r.get::<_, String>(0))
                .is_err()
        );
    }
}
