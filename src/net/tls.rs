//! Certificates from `[tls] ca_file`, added to the public roots, never a "trust anything" switch.

use std::path::{Path, PathBuf};

use rustls_connector::rustls_pki_types::CertificateDer;
use rustls_connector::rustls_pki_types::pem::PemObject;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read CA file {path}: {cause}")]
    CaFile { path: PathBuf, cause: String },
    #[error("CA file {path} holds no certificate")]
    Empty { path: PathBuf },
}

/// Every certificate in a PEM file.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::CaFile {
            path: path.to_path_buf(),
            cause: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}
