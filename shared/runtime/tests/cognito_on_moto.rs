//! Invitations through Cognito, on moto's cognito-idp: `POST /members/invite`
//! creates the user with the workspace and role attributes and lists the
//! member under the user's `sub`; inviting the same email again is 409 and
//! adds nothing; an admin cannot invite an owner.

use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, SchemaAttributeType, UsernameAttributeType,
};
use http::{HeaderValue, Method};
use inbox_http::{ApiRequest, App, Identity};
use inbox_runtime::cognito::CognitoInvitations;
use inbox_runtime::serve_api;
use inbox_store::DirectoryStore;
use inbox_store::sqlite::SqliteStore;
use serde_json::{Value, json};

async fn client() -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::new(&inbox_store::dynamo::testing::sdk_config().await)
}

/// A pool shaped like the template's: email is the username, two custom attributes.
async fn pool(cognito: &aws_sdk_cognitoidentityprovider::Client) -> String {
    let custom = |name: &str| {
        SchemaAttributeType::builder()
            .name(name)
            .attribute_data_type(AttributeDataType::String)
            .mutable(true)
            .build()
    };
    let out = cognito
        .create_user_pool()
        .pool_name(format!("inbox-users-{}", std::process::id()))
        .username_attributes(UsernameAttributeType::Email)
        .schema(custom("workspace_id"))
        .schema(custom("role"))
        .send()
        .await
        .expect("create_user_pool");
    out.user_pool()
        .and_then(|p| p.id())
        .expect("a pool id")
        .to_string()
}

fn who(sub: &str, role: &str) -> Identity {
    Identity::Verified(inbox_http::Claims {
        sub: sub.to_string(),
        workspace_id: "acme".to_string(),
        role: role.to_string(),
        name: None,
    })
}

async fn invite(app: &App<SqliteStore>, by: &Identity, body: Value) -> (u16, Value) {
    let mut req = ApiRequest::new(Method::POST, "/members/invite", by.clone());
    req.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    req.body = body.to_string().into();
    let r = serve_api(app, "member-invite", req).await;
    (r.status.as_u16(), r.json_body())
}

#[tokio::test]
async fn an_invitation_creates_the_cognito_user_and_lists_the_member() {
    let cognito = client().await;
    let pool_id = pool(&cognito).await;
    let app = App::new(SqliteStore::in_memory().unwrap())
        .with_invitations(CognitoInvitations::new(cognito.clone(), &pool_id));
    let ada = who("ada", "admin");

    let (status, body) = invite(
        &app,
        &ada,
        json!({"email": "bob@example.com", "name": "Bob Ray", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["invited"], true);
    assert_eq!(
        (body["name"].as_str(), body["role"].as_str()),
        (Some("Bob Ray"), Some("agent"))
    );
    let id = body["id"].as_str().expect("an id").to_string();

    let user = cognito
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("bob@example.com")
        .send()
        .await
        .expect("the user exists");
    let attr = |name: &str| {
        user.user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value())
            .map(str::to_string)
    };
    assert_eq!(
        attr("sub").as_deref(),
        Some(id.as_str()),
        "the member id is the user's sub"
    );
    assert_eq!(attr("custom:workspace_id").as_deref(), Some("acme"));
    assert_eq!(attr("custom:role").as_deref(), Some("agent"));
    assert_eq!(attr("name").as_deref(), Some("Bob Ray"));
    let members = app.store().list_members("acme").await.unwrap();
    assert!(
        members
            .iter()
            .any(|m| m.id == id && m.email.as_deref() == Some("bob@example.com"))
    );

    // The same email again: 409, and nothing more is listed.
    let before = app.store().list_members("acme").await.unwrap().len();
    let (status, body) = invite(
        &app,
        &ada,
        json!({"email": "BOB@example.com", "name": "Bob again", "role": "agent"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("id_taken")),
        "{body}"
    );
    assert_eq!(
        app.store().list_members("acme").await.unwrap().len(),
        before
    );

    // Only an owner invites an owner; Cognito is not called for a refusal.
    let (status, body) = invite(
        &app,
        &ada,
        json!({"email": "olga@example.com", "name": "Olga", "role": "owner"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let olga = cognito
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("olga@example.com")
        .send()
        .await;
    assert!(
        olga.is_err(),
        "no user was created for a refused invitation"
    );
}

#[tokio::test]
async fn without_a_user_pool_invitations_are_not_offered() {
    let app = App::new(SqliteStore::in_memory().unwrap());
    let (status, body) = invite(
        &app,
        &who("ada", "admin"),
        json!({"email": "bob@example.com", "name": "Bob", "role": "agent"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (501, Some("not_implemented")),
        "{body}"
    );
    assert!(
        app.store()
            .list_members("acme")
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != "bob")
    );
}
