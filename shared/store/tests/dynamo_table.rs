//! The table definition, created on moto: keys, indexes, stream and TTL.

use inbox_store::dynamo::table::{self, INDEXES};
use inbox_store::dynamo::testing::{test_endpoint, unique_table_name};
use inbox_store::dynamo::{connect, create_table_if_missing, create_table_input};

#[test]
fn definition_keys_every_index_with_string_attributes() {
    let input = create_table_input("t").unwrap();
    let gsis = input.global_secondary_indexes();
    assert_eq!(gsis.len(), INDEXES.len());
    assert!(gsis.len() <= 20, "DynamoDB allows 20 GSIs per table");
    let defined: Vec<&str> = input
        .attribute_definitions()
        .iter()
        .map(|a| a.attribute_name())
        .collect();
    for index in INDEXES {
        assert!(defined.contains(&index.pk) && defined.contains(&index.sk));
    }
    let stream = input.stream_specification().unwrap();
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&aws_sdk_dynamodb::types::StreamViewType::NewImage)
    );
}

#[tokio::test]
async fn creates_the_table_on_moto_once() {
    let endpoint = test_endpoint().unwrap_or_else(|e| panic!("{e}"));
    let client = connect(Some(&endpoint), None).await;
    let name = unique_table_name("table");
    assert!(create_table_if_missing(&client, &name).await.unwrap());
    assert!(!create_table_if_missing(&client, &name).await.unwrap());

    let described = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let t = described.table().unwrap();
    let mut names: Vec<&str> = t
        .global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name())
        .collect();
    names.sort();
    let mut expected: Vec<&str> = INDEXES.iter().map(|i| i.name).collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(t.stream_specification().is_some_and(|s| s.stream_enabled()));

    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(table::TTL_ATTRIBUTE));
}
