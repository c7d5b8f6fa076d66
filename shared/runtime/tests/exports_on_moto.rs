//! Export files on S3, on moto: a file kept by `S3ExportFiles` comes back,
//! byte for byte, from its presigned link; a link to another key does not.

use inbox_app::ExportFiles;
use inbox_runtime::exports::S3ExportFiles;

#[tokio::test]
async fn a_kept_export_downloads_from_its_presigned_link() {
    let sdk = inbox_store::dynamo::testing::sdk_config().await;
    // moto serves buckets by path, not as host names.
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let bucket = format!("inbox-exports-{}", std::process::id());
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create_bucket");
    let files = S3ExportFiles::new(s3.clone(), &bucket);

    let path = std::env::temp_dir().join(format!("inbox-export-test-{}.csv", std::process::id()));
    let csv = "id,contact_name\r\nconv_1,Ann\r\n".repeat(1000);
    std::fs::write(&path, &csv).unwrap();
    files.store("acme", "exp_1", &path).await.expect("store");
    let _ = std::fs::remove_file(&path);

    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("acme/exp_1.csv")
        .send()
        .await
        .expect("the object is there");
    assert_eq!(head.content_type(), Some("text/csv; charset=utf-8"));

    let link = files.link("acme", "exp_1").await.expect("link");
    assert!(link.contains("X-Amz-Signature="), "{link}");
    assert!(link.contains("X-Amz-Expires=900"), "{link}");
    let got = reqwest::get(&link).await.expect("download");
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), csv);

    let other = files.link("acme", "exp_missing").await.expect("link");
    assert_eq!(reqwest::get(&other).await.expect("download").status(), 404);
}
