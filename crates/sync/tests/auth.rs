//! Device-bound access tokens and DPoP proofs: what the server accepts and everything it must
//! refuse.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use dentpro_sync::auth::{
    AuthError, JtiCache, authenticate, issue_access_token, make_proof, thumbprint, verify_access_token,
    verify_proof,
};
use ed25519_dalek::SigningKey;
use serde_json::Value;

const URL: &str = "https://192.168.1.10:8443/v1/push";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap()
}

fn skew() -> Duration {
    Duration::seconds(120)
}

fn ttl() -> Duration {
    Duration::minutes(15)
}

fn server() -> SigningKey {
    SigningKey::from_bytes(&[0x5e; 32])
}

fn device(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn token_for(device_key: &SigningKey, device_id: &str) -> String {
    issue_access_token(
        &server(),
        device_id,
        &thumbprint(&device_key.verifying_key()),
        now(),
        ttl(),
    )
}

fn part(jwt: &str, i: usize) -> Value {
    let segment = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

/// Replaces a JWT's header (i = 0) or claims (i = 1), keeping the original signature.
fn tamper(jwt: &str, i: usize, edit: impl FnOnce(&mut Value)) -> String {
    let mut value = part(jwt, i);
    edit(&mut value);
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    parts[i] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&value).unwrap());
    parts.join(".")
}

#[test]
fn proof_has_the_rfc_9449_shape() {
    let key = device(1);
    let token = token_for(&key, "dev-1");
    let proof = make_proof(
        &key,
        "POST",
        "https://Branch.local:443/v1/push?x=1#frag",
        Some(&token),
        now(),
    );
    let header = part(&proof, 0);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["jwk"]["kty"], "OKP");
    assert_eq!(header["jwk"]["crv"], "Ed25519");
    assert_eq!(
        header["jwk"]["x"],
        URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())
    );
    assert!(header["jwk"].get("d").is_none(), "no private key in the header");
    let claims = part(&proof, 1);
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://branch.local/v1/push");
    assert_eq!(claims["iat"], now().timestamp());
    assert_eq!(
        uuid::Uuid::parse_str(claims["jti"].as_str().unwrap())
            .unwrap()
            .get_version_num(),
        7
    );
    use sha2::Digest as _;
    assert_eq!(
        claims["ath"],
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
    );

    let token_header = part(&token, 0);
    assert_eq!(token_header["typ"], "at+jwt");
    let token_claims = part(&token, 1);
    assert_eq!(token_claims["sub"], "dev-1");
    assert_eq!(token_claims["cnf"]["jkt"], thumbprint(&key.verifying_key()));
    assert_eq!(token_claims["exp"], (now() + ttl()).timestamp());

    // Without a token there is no ath.
    let bare = make_proof(&key, "POST", URL, None, now());
    assert!(part(&bare, 1).get("ath").is_none());
    assert_ne!(part(&bare, 1)["jti"], claims["jti"], "a fresh jti per proof");
}

#[test]
fn round_trip() {
    let key = device(1);
    let proof = make_proof(&key, "POST", URL, None, now());
    let verified = verify_proof(&proof, "POST", URL, None, now() + Duration::seconds(3), skew()).unwrap();
    assert_eq!(verified.public_key, key.verifying_key());
    assert_eq!(verified.thumbprint, thumbprint(&key.verifying_key()));
    assert_eq!(verified.iat, now());

    let token = token_for(&key, "dev-1");
    let claims = verify_access_token(&token, &server().verifying_key(), now()).unwrap();
    assert_eq!(claims.device_id, "dev-1");
    assert_eq!(claims.thumbprint, verified.thumbprint);
    assert_eq!(claims.expires, now() + ttl());

    let proof = make_proof(
        &key,
        "GET",
        "https://192.168.1.10:8443/v1/pull?after=41",
        Some(&token),
        now(),
    );
    // The query is not part of htu: the same proof holds for the request with any query.
    let (claims, verified) = authenticate(
        &token,
        &proof,
        "GET",
        "https://192.168.1.10:8443/v1/pull?after=41",
        &server().verifying_key(),
        now(),
        skew(),
    )
    .unwrap();
    assert_eq!(claims.device_id, "dev-1");
    assert_eq!(verified.thumbprint, claims.thumbprint);
}

#[test]
fn proof_signed_by_another_key_than_its_jwk_is_refused() {
    let (signer, claimed) = (device(1), device(2));
    let proof = make_proof(&signer, "POST", URL, None, now());
    let forged = tamper(&proof, 0, |h| {
        h["jwk"]["x"] = URL_SAFE_NO_PAD.encode(claimed.verifying_key().as_bytes()).into();
    });
    assert_eq!(
        verify_proof(&forged, "POST", URL, None, now(), skew()),
        Err(AuthError::BadSignature)
    );
}

#[test]
fn tampered_claims_are_refused() {
    let key = device(1);
    let proof = make_proof(&key, "GET", URL, None, now());
    let forged = tamper(&proof, 1, |c| c["htm"] = "POST".into());
    assert_eq!(
        verify_proof(&forged, "POST", URL, None, now(), skew()),
        Err(AuthError::BadSignature)
    );

    let token = token_for(&key, "dev-1");
    let forged = tamper(&token, 1, |c| c["sub"] = "dev-2".into());
    assert_eq!(
        verify_access_token(&forged, &server().verifying_key(), now()),
        Err(AuthError::BadSignature)
    );
    let forged = tamper(&token, 1, |c| {
        c["exp"] = (now() + Duration::days(365)).timestamp().into()
    });
    assert_eq!(
        verify_access_token(&forged, &server().verifying_key(), now()),
        Err(AuthError::BadSignature)
    );
}

#[test]
fn token_copied_to_another_machine_is_refused() {
    let (owner, thief) = (device(1), device(2));
    let token = token_for(&owner, "dev-1");
    // The other machine signs a perfectly good proof with its own key, for this token.
    let proof = make_proof(&thief, "POST", URL, Some(&token), now());
    assert!(verify_proof(&proof, "POST", URL, Some(&token), now(), skew()).is_ok());
    let result = authenticate(
        &token,
        &proof,
        "POST",
        URL,
        &server().verifying_key(),
        now(),
        skew(),
    );
    assert_eq!(result.unwrap_err(), AuthError::TokenBinding);
    assert_eq!(AuthError::TokenBinding.reason(), "token_binding");
}

#[test]
fn expired_token_is_refused() {
    let key = device(1);
    let token = token_for(&key, "dev-1");
    let server_key = server().verifying_key();
    assert!(verify_access_token(&token, &server_key, now() + ttl() - Duration::seconds(1)).is_ok());
    assert_eq!(
        verify_access_token(&token, &server_key, now() + ttl()),
        Err(AuthError::Expired)
    );
    let later = now() + ttl() + Duration::seconds(1);
    let proof = make_proof(&key, "POST", URL, Some(&token), later);
    assert_eq!(
        authenticate(&token, &proof, "POST", URL, &server_key, later, skew()).unwrap_err(),
        AuthError::Expired
    );
}

#[test]
fn token_signed_by_another_server_key_is_refused() {
    let key = device(1);
    let rogue = SigningKey::from_bytes(&[0x66; 32]);
    let token = issue_access_token(&rogue, "dev-1", &thumbprint(&key.verifying_key()), now(), ttl());
    assert_eq!(
        verify_access_token(&token, &server().verifying_key(), now()),
        Err(AuthError::BadSignature)
    );
    let proof = make_proof(&key, "POST", URL, Some(&token), now());
    assert_eq!(
        authenticate(
            &token,
            &proof,
            "POST",
            URL,
            &server().verifying_key(),
            now(),
            skew()
        )
        .unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn proof_outside_the_time_window_is_refused() {
    let key = device(1);
    let proof = make_proof(&key, "POST", URL, None, now());
    // Exactly at the edges is still accepted.
    assert!(verify_proof(&proof, "POST", URL, None, now() + skew(), skew()).is_ok());
    assert!(verify_proof(&proof, "POST", URL, None, now() - skew(), skew()).is_ok());
    let too_late = now() + skew() + Duration::seconds(1);
    assert_eq!(
        verify_proof(&proof, "POST", URL, None, too_late, skew()),
        Err(AuthError::ProofTooOld)
    );
    let too_early = now() - skew() - Duration::seconds(1);
    assert_eq!(
        verify_proof(&proof, "POST", URL, None, too_early, skew()),
        Err(AuthError::NotYetValid)
    );
}

#[test]
fn proof_for_another_method_or_url_is_refused() {
    let key = device(1);
    let proof = make_proof(&key, "POST", URL, None, now());
    let refused = |method: &str, url: &str| verify_proof(&proof, method, url, None, now(), skew());
    assert_eq!(refused("GET", URL), Err(AuthError::WrongMethodOrUrl));
    assert_eq!(refused("post", URL), Err(AuthError::WrongMethodOrUrl));
    assert_eq!(
        refused("POST", "https://192.168.1.10:8443/v1/pull"),
        Err(AuthError::WrongMethodOrUrl)
    );
    assert_eq!(
        refused("POST", "https://192.168.1.11:8443/v1/push"),
        Err(AuthError::WrongMethodOrUrl)
    );
    assert_eq!(
        refused("POST", "https://192.168.1.10:9443/v1/push"),
        Err(AuthError::WrongMethodOrUrl)
    );
    assert_eq!(
        refused("POST", "http://192.168.1.10:8443/v1/push"),
        Err(AuthError::WrongMethodOrUrl)
    );
    // Query and fragment do not matter; neither does the spelling of the same URL.
    assert!(refused("POST", "https://192.168.1.10:8443/v1/push?batch=3#x").is_ok());
    assert!(refused("POST", "HTTPS://192.168.1.10:8443/v1/./push").is_ok());
}

#[test]
fn proof_for_another_token_is_refused() {
    let key = device(1);
    let token = token_for(&key, "dev-1");
    let other_token = issue_access_token(
        &server(),
        "dev-1",
        &thumbprint(&key.verifying_key()),
        now() + Duration::seconds(1),
        ttl(),
    );
    assert_ne!(token, other_token);
    let proof = make_proof(&key, "POST", URL, Some(&token), now());
    assert_eq!(
        verify_proof(&proof, "POST", URL, Some(&other_token), now(), skew()),
        Err(AuthError::TokenBinding)
    );
    assert_eq!(
        authenticate(
            &other_token,
            &proof,
            "POST",
            URL,
            &server().verifying_key(),
            now(),
            skew()
        )
        .unwrap_err(),
        AuthError::TokenBinding
    );
    // A proof made without a token cannot go with one.
    let bare = make_proof(&key, "POST", URL, None, now());
    assert_eq!(
        verify_proof(&bare, "POST", URL, Some(&token), now(), skew()),
        Err(AuthError::TokenBinding)
    );
}

#[test]
fn one_kind_of_jwt_cannot_pass_for_the_other() {
    let key = device(1);
    let token = token_for(&key, "dev-1");
    let proof = make_proof(&key, "POST", URL, None, now());
    // Even with the right key, a proof is not an access token and vice versa.
    assert!(matches!(
        verify_access_token(&proof, &key.verifying_key(), now()),
        Err(AuthError::Malformed(_))
    ));
    assert!(matches!(
        verify_proof(&token, "POST", URL, None, now(), skew()),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn malformed_input_is_refused() {
    let key = device(1);
    let proof = make_proof(&key, "POST", URL, None, now());
    let check = |p: &str| verify_proof(p, "POST", URL, None, now(), skew());
    for garbage in ["", "a.b", "a.b.c", "....", "not a jwt at all"] {
        assert!(
            matches!(check(garbage), Err(AuthError::Malformed(_))),
            "{garbage:?}"
        );
    }
    let none_alg = tamper(&proof, 0, |h| h["alg"] = "none".into());
    assert!(matches!(check(&none_alg), Err(AuthError::Malformed(_))));
    let hs256 = tamper(&proof, 0, |h| h["alg"] = "HS256".into());
    assert!(matches!(check(&hs256), Err(AuthError::Malformed(_))));
    let no_jwk = tamper(&proof, 0, |h| {
        h.as_object_mut().unwrap().remove("jwk");
    });
    assert!(matches!(check(&no_jwk), Err(AuthError::Malformed(_))));
    let padded_x = tamper(&proof, 0, |h| {
        let x = h["jwk"]["x"].as_str().unwrap().to_owned() + "=";
        h["jwk"]["x"] = x.into();
    });
    assert!(matches!(check(&padded_x), Err(AuthError::Malformed(_))));
    let crit = tamper(&proof, 0, |h| h["crit"] = serde_json::json!(["exp"]));
    assert!(matches!(check(&crit), Err(AuthError::Malformed(_))));
    let typ = tamper(&proof, 0, |h| h["typ"] = "JWT".into());
    assert!(matches!(check(&typ), Err(AuthError::Malformed(_))));
    assert_eq!(AuthError::Malformed("x".into()).reason(), "malformed");
}

#[test]
fn replayed_proof_is_caught_by_the_cache() {
    let key = device(1);
    let mut cache = JtiCache::new(skew());
    let proof = make_proof(&key, "POST", URL, None, now());
    let first = verify_proof(&proof, "POST", URL, None, now(), skew()).unwrap();
    assert!(cache.check_and_insert(&first.jti, first.iat, now()));
    // The same proof again, a second later: still valid on its own, but a replay.
    let again = verify_proof(&proof, "POST", URL, None, now() + Duration::seconds(1), skew()).unwrap();
    assert!(!cache.check_and_insert(&again.jti, again.iat, now() + Duration::seconds(1)));
    assert_eq!(
        cache.check(&again.jti, again.iat, now() + Duration::seconds(2)),
        Err(AuthError::Replayed)
    );
    assert_eq!(AuthError::Replayed.reason(), "replayed");
    // Another proof from the same device is fine.
    let next = verify_proof(
        &make_proof(&key, "POST", URL, None, now()),
        "POST",
        URL,
        None,
        now(),
        skew(),
    )
    .unwrap();
    assert!(cache.check_and_insert(&next.jti, next.iat, now()));
    assert_eq!(cache.len(), 2);
}

#[test]
fn replay_cache_forgets_only_what_can_no_longer_pass() {
    let mut cache = JtiCache::new(skew());
    let t0 = now();
    assert!(cache.check_and_insert("a", t0, t0));
    // Until iat + window the proof could still verify, so it is remembered.
    assert!(!cache.check_and_insert("a", t0, t0 + skew()));
    // After that, verify_proof refuses it anyway, and the cache lets it go.
    let later = t0 + skew() + Duration::seconds(1);
    assert!(cache.check_and_insert("b", later, later));
    assert_eq!(cache.len(), 1, "a was forgotten");
    // A proof dated in the future (within the skew) is remembered until its own iat + window.
    let future = later + skew();
    assert!(cache.check_and_insert("c", future, later));
    assert!(!cache.check_and_insert("c", future, future + skew()));
}

#[test]
fn full_replay_cache_refuses_rather_than_forgets() {
    let mut cache = JtiCache::with_max_entries(skew(), 3);
    for jti in ["a", "b", "c"] {
        assert!(cache.check_and_insert(jti, now(), now()));
    }
    assert_eq!(cache.check("d", now(), now()), Err(AuthError::ReplayCacheFull));
    assert_eq!(cache.check("a", now(), now()), Err(AuthError::Replayed));
    // Once the window has passed there is room again.
    let later = now() + skew() + Duration::seconds(1);
    assert!(cache.check_and_insert("d", later, later));
    assert_eq!(cache.len(), 1);
}

/// A DPoP proof built by hand (base64url + ed25519-dalek, not `make_proof`): header and claims
/// exactly as given.
fn hand_proof(key: &SigningKey, header: Value, claims: Value) -> String {
    use ed25519_dalek::Signer as _;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn hand_header(key: &SigningKey) -> Value {
    serde_json::json!({
        "typ": "dpop+jwt",
        "alg": "EdDSA",
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())}
    })
}

#[test]
fn a_hand_built_proof_with_a_fractional_iat_is_accepted() {
    // RFC 7519 section 2: a NumericDate may be non-integer.
    let key = device(21);
    let claims = serde_json::json!({
        "jti": "7c1c6f0e-hand-built", "htm": "POST", "htu": URL,
        "iat": now().timestamp() as f64 + 0.5,
    });
    let proof = hand_proof(&key, hand_header(&key), claims);
    let verified = verify_proof(&proof, "POST", URL, None, now(), skew()).unwrap();
    assert_eq!(verified.iat.timestamp(), now().timestamp());
    assert_eq!(verified.iat.timestamp_subsec_millis(), 500);
    // Whole seconds still work, and a fraction outside the window is still refused.
    let whole = serde_json::json!({"jti": "b", "htm": "POST", "htu": URL, "iat": now().timestamp()});
    assert!(
        verify_proof(
            &hand_proof(&key, hand_header(&key), whole),
            "POST",
            URL,
            None,
            now(),
            skew()
        )
        .is_ok()
    );
    let late = serde_json::json!({"jti": "c", "htm": "POST", "htu": URL,
        "iat": (now() - skew()).timestamp() as f64 - 0.5});
    assert_eq!(
        verify_proof(
            &hand_proof(&key, hand_header(&key), late),
            "POST",
            URL,
            None,
            now(),
            skew()
        ),
        Err(AuthError::ProofTooOld)
    );
    for bad in [
        serde_json::json!("1700000000"),
        serde_json::json!(1e300),
        serde_json::json!(null),
    ] {
        let claims = serde_json::json!({"jti": "d", "htm": "POST", "htu": URL, "iat": bad});
        let proof = hand_proof(&key, hand_header(&key), claims);
        assert!(matches!(
            verify_proof(&proof, "POST", URL, None, now(), skew()),
            Err(AuthError::Malformed(_))
        ));
    }
}

#[test]
fn a_proof_whose_jwk_holds_the_private_key_is_refused() {
    // RFC 9449 section 4.3 step 7.
    let key = device(22);
    let mut header = hand_header(&key);
    header["jwk"]["d"] = URL_SAFE_NO_PAD.encode(key.to_bytes()).into();
    let claims = serde_json::json!({"jti": "e", "htm": "POST", "htu": URL, "iat": now().timestamp()});
    let proof = hand_proof(&key, header, claims.clone());
    assert_eq!(
        verify_proof(&proof, "POST", URL, None, now(), skew()),
        Err(AuthError::PrivateKeyInProof)
    );
    // The same proof without `d` is fine.
    assert!(
        verify_proof(
            &hand_proof(&key, hand_header(&key), claims),
            "POST",
            URL,
            None,
            now(),
            skew()
        )
        .is_ok()
    );
}

#[test]
fn replay_state_is_per_device_and_bounded_per_device() {
    use dentpro_sync::auth::DeviceReplayCaches;
    let mut caches = DeviceReplayCaches::new(skew(), 3);
    for jti in ["a", "b", "c"] {
        caches.check("flooder", jti, now(), now()).unwrap();
    }
    // The flooding device is locked out until its window passes ...
    assert_eq!(
        caches.check("flooder", "d", now(), now()),
        Err(AuthError::ReplayCacheFull)
    );
    // ... but no other device is, and a jti is only a replay for the device that used it.
    for jti in ["a", "b", "c"] {
        caches.check("desk", jti, now(), now()).unwrap();
    }
    assert_eq!(caches.check("desk", "a", now(), now()), Err(AuthError::Replayed));
    assert_eq!(caches.len_of("flooder"), 3);
    assert_eq!(caches.devices(), 2);
    let later = now() + skew() + Duration::seconds(1);
    caches.check("flooder", "d", later, later).unwrap();
    assert_eq!(caches.len_of("flooder"), 1);
}
