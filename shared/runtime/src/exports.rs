//! Export files in AWS: an S3 bucket (objects `<workspace>/<id>.csv`, kept
//! 7 days by the bucket's lifecycle rule) and presigned `GetObject` links
//! valid for [`LINK_VALID_FOR`].

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use inbox_app::{AppError, ExportFiles};
use inbox_store::StoreError;
use std::path::Path;
use std::time::Duration;

/// How long a link stays valid.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(15 * 60);

/// Export files in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3ExportFiles {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ExportFiles {
    /// Files in `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3ExportFiles {
            client,
            bucket: bucket.into(),
        }
    }
}

fn key(workspace_id: &str, id: &str) -> String {
    format!("{workspace_id}/{id}.csv")
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Unavailable(format!(
        "export files: {what}: {e}"
    )))
}

#[async_trait]
impl ExportFiles for S3ExportFiles {
    async fn store(&self, workspace_id: &str, id: &str, path: &Path) -> Result<(), AppError> {
        // Streamed from the file: memory stays bounded whatever its size.
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| unavailable("reading the file", e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key(workspace_id, id))
            .content_type("text/csv; charset=utf-8")
            .content_disposition("attachment; filename=\"conversations.csv\"")
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable("put", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn link(&self, workspace_id: &str, id: &str) -> Result<String, AppError> {
        let config =
            PresigningConfig::expires_in(LINK_VALID_FOR).map_err(|e| unavailable("presign", e))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key(workspace_id, id))
            .presigned(config)
            .await
            .map_err(|e| unavailable("presign", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(request.uri().to_string())
    }
}
