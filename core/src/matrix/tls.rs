//! TLS: the extra roots a client trusts, and naming a refused certificate.
//!
//! Every platform verifies the homeserver's certificate with its own roots
//! (rustls-platform-verifier through reqwest: the system store on Linux,
//! which `SSL_CERT_FILE` or `SSL_CERT_DIR` replace; Security.framework on
//! Apple; the Android trust manager), plus the PEM roots of
//! `ClientConfig.additional_root_certificates`. A certificate that fails is
//! refused in the handshake, so no request (no password, no token) is sent.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};

use crate::api::{CoreError, CoreResult};

/// Parses `additional_root_certificates` into DER certificates, each one
/// checked as a trust anchor, so that a bad one is refused before anything
/// is created. Each string holds one or more `CERTIFICATE` blocks.
pub(crate) fn parse_roots(pems: &[String]) -> CoreResult<Vec<Vec<u8>>> {
    let mut roots = Vec::new();
    for (index, pem) in pems.iter().enumerate() {
        let invalid = |why: String| {
            CoreError::invalid_argument(format!("additional_root_certificates[{index}]: {why}"))
        };
        let mut found = 0;
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let der = der.map_err(|e| invalid(format!("malformed PEM: {e}")))?;
            RootCertStore::empty()
                .add(der.clone())
                .map_err(|e| invalid(format!("not a usable certificate: {e}")))?;
            roots.push(der.to_vec());
            found += 1;
        }
        if found == 0 {
            return Err(invalid(
                "no `-----BEGIN CERTIFICATE-----` block in the PEM text".into(),
            ));
        }
    }
    Ok(roots)
}

/// The certificate error somewhere in `error`'s chain of sources, if the
/// failure was the server's certificate. rustls's error travels inside
/// `io::Error`s (nested, through hyper), whose `source()` skips what they
/// wrap, so an `io::Error` link is followed through `get_ref()` instead.
pub(crate) fn certificate_error(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut link = Some(error);
    while let Some(e) = link {
        if let Some(rustls::Error::InvalidCertificate(kind)) = e.downcast_ref::<rustls::Error>() {
            return Some(format!(
                "the homeserver's TLS certificate was refused, {}: {kind:?}",
                reason(kind)
            ));
        }
        link = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// What a refused certificate means, in the words an app can show.
fn reason(kind: &CertificateError) -> &'static str {
    use CertificateError as C;
    match kind {
        C::UnknownIssuer => {
            "it is not issued by a certificate authority this client trusts \
             (add the CA to the platform's store or to additional_root_certificates)"
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it is not valid for the homeserver's host name"
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired",
        C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet",
        C::Revoked => "it is revoked",
        _ => "it is not valid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_certificate_block_is_an_invalid_argument() {
        for pem in [
            "",
            "hello",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let err = parse_roots(&[pem.to_owned()]).unwrap_err();
            assert!(
                matches!(err, CoreError::InvalidArgument { .. }),
                "{pem}: {err:?}"
            );
        }
    }

    #[test]
    fn a_block_that_is_not_a_certificate_is_an_invalid_argument() {
        let pem = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let err = parse_roots(&[pem.to_owned()]).unwrap_err();
        assert!(
            matches!(&err, CoreError::InvalidArgument { detail } if detail.contains("[0]")),
            "{err:?}"
        );
    }

    #[test]
    fn no_roots_is_fine() {
        assert!(parse_roots(&[]).unwrap().is_empty()); // allowed: a test
    }

    #[test]
    fn a_certificate_error_is_found_inside_an_io_error() {
        // As hyper hands it over: an io::Error around tokio-rustls's io::Error.
        let rustls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        let io = std::io::Error::other(io);
        let detail = certificate_error(&io).unwrap(); // allowed: a test
        assert!(
            detail.contains("certificate") && detail.contains("UnknownIssuer"),
            "{detail}"
        );
        let other = std::io::Error::other("connection refused");
        assert_eq!(certificate_error(&other), None);
    }
}
