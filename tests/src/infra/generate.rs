//! Writes the per-function part of `infra/template.yaml`: for each function
//! its `AWS::Serverless::Function`, its own execution role with exactly the
//! statements its [`FunctionSpec`] calls for, its log group, and, for the
//! critical ones, error and throttle alarms. The rest of the template is
//! written by hand; the generated block sits between two marker lines.

use super::catalogue::{DlqAccess, ExportsAccess, FunctionSpec, TableAccess, Trigger, functions};
use super::{function_id, log_group_id, logical_stem, role_id, workspace_root};
use inbox_runtime::FUNCTION_ENV;
use inbox_store::dynamo::table::{
    TIMERS,
    keys::{API_KEY_PREFIX, LIVE_PREFIX, OUTBOX_PREFIX},
};
use std::fmt::Write as _;

/// The line that opens the generated block.
pub const BEGIN_MARKER: &str = "  # BEGIN GENERATED FUNCTIONS";
/// The line that closes it.
pub const END_MARKER: &str = "  # END GENERATED FUNCTIONS";

/// Actions that read the table.
pub const TABLE_READ_ACTIONS: [&str; 3] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
];
/// Item writes. `TransactWriteItems` has no IAM action of its own: each item
/// in a transaction is authorised as the put, update, delete or condition check it is.
pub const TABLE_WRITE_ACTIONS: [&str; 4] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
];

/// Item writes without deletes (the sender).
pub const TABLE_UPDATE_ACTIONS: [&str; 3] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
];

/// The generated block, markers included, for the functions in the catalogue.
pub fn render() -> String {
    let mut out = String::new();
    out.push_str(BEGIN_MARKER);
    out.push('\n');
    out.push_str(
        "  # Written by `cargo run -p inbox-tests --bin gen-template`; do not edit by hand.\n\
         \x20 # Sizing profiles (memory MB / timeout s), explained in tests/src/infra/catalogue.rs:\n\
         \x20 #   api 256/10: ~30 MB is used; 256 MB buys CPU for TLS set-up at cold start,\n\
         \x20 #     and one read plus one write with bounded retries fails well before API Gateway's 30 s.\n\
         \x20 #   export 1024/29: pages every conversation of a view in one request (the HTTP API allows 30 s).\n\
         \x20 #   webhook 256/15: providers wait about 15 s; a delivery may carry several messages.\n\
         \x20 #   sweep 256/55: must end inside its one-minute schedule.\n\
         \x20 #   worker 256/30: 10 timers per batch; the queue's visibility timeout is six times this.\n\
         \x20 #   publisher 256/60: up to 100 stream records, sent to EventBridge 10 per call.\n\
         \x20 #   replay 256/300: invoked by hand; drains the events dead-letter queue 10 a call.\n\
         \x20 #   sender 256/30: up to 10 attempts at once, each one provider call of 15 s at most.\n\
         \x20 #   ai-agent 256/90: up to 10 requests at once, each up to 3 model or webhook calls in 70 s.\n\
         \x20 #   authorizer 256/10: a key read or a signature check; a JWKS fetch on a cold start.\n\
         \x20 #   live 256/10: a connect's read and put; a typing frame's query and posts, 32 at once.\n\
         \x20 # Each function has its own role: logs to its own log group, and only the\n\
         \x20 # table actions, queues and bus it uses. All run the one binary (Globals'\n\
         \x20 # CodeUri); INBOX_FUNCTION names the catalogue entry each one runs.\n",
    );
    for f in functions() {
        out.push('\n');
        render_function(&mut out, &f);
        render_log_group(&mut out, &f);
        render_role(&mut out, &f);
        if f.invites {
            render_invite_policy(&mut out, &f);
        }
        if f.critical {
            render_alarms(&mut out, &f);
        }
    }
    out.push_str(END_MARKER);
    out.push('\n');
    out
}

fn render_function(out: &mut String, f: &FunctionSpec) {
    let id = function_id(&f.name);
    let s = f.sizing;
    let _ = writeln!(out, "  {id}:");
    let _ = writeln!(out, "    Type: AWS::Serverless::Function");
    let _ = writeln!(out, "    Properties:");
    let _ = writeln!(out, "      Description: {}", yaml_str(&f.description));
    let _ = writeln!(out, "      Role: !GetAtt {}.Arn", role_id(&f.name));
    let _ = writeln!(
        out,
        "      MemorySize: {} # profile {}",
        s.memory, s.profile
    );
    let _ = writeln!(out, "      Timeout: {}", s.timeout);
    let _ = writeln!(out, "      LoggingConfig:");
    let _ = writeln!(out, "        LogGroup: !Ref {}", log_group_id(&f.name));
    let mut env: Vec<(String, String)> = vec![(FUNCTION_ENV.into(), f.name.clone())];
    if f.sends_autoclose {
        env.push((
            "INBOX_AUTOCLOSE_QUEUE_URL".into(),
            "!Ref AutoCloseQueue".into(),
        ));
    }
    if f.publishes_events {
        env.push(("INBOX_EVENT_BUS_NAME".into(), "!Ref EventBus".into()));
    }
    if f.sends_jobs {
        env.push(("INBOX_JOBS_QUEUE_URL".into(), "!Ref JobsQueue".into()));
    }
    if f.trigger == Trigger::SendQueue {
        env.push(("INBOX_SEND_QUEUE_URL".into(), "!Ref SendQueue".into()));
    }
    if matches!(f.trigger, Trigger::ChangeFeed | Trigger::WebhookQueue) {
        env.push(("INBOX_WEBHOOK_QUEUE_URL".into(), "!Ref WebhookQueue".into()));
    }
    if f.exports != ExportsAccess::None {
        env.push(("INBOX_EXPORTS_BUCKET".into(), "!Ref ExportsBucket".into()));
    }
    if f.invites {
        env.push((
            "INBOX_USER_POOL_ID".into(),
            "!If [UseCognito, !Ref UserPool, !Ref AWS::NoValue]".into(),
        ));
    }
    if f.events_dlq != DlqAccess::None {
        env.push((
            "INBOX_EVENTS_DLQ_URL".into(),
            "!Ref EventsDeadLetterQueue".into(),
        ));
    }
    if f.manages_connections {
        env.push((
            "INBOX_LIVE_ENDPOINT".into(),
            "!Sub \"https://${LiveApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${LiveStage}\""
                .into(),
        ));
    }
    if matches!(f.trigger, Trigger::ApiAuthorizer | Trigger::LiveAuthorizer) {
        env.push((
            "INBOX_JWT_ISSUER".into(),
            "!If [UseCognito, !Sub \"https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}\", !Ref JwtIssuer]".into(),
        ));
        env.push((
            "INBOX_JWT_AUDIENCES".into(),
            "!If [UseCognito, !Ref UserPoolClient, !Join [\",\", !Ref JwtAudience]]".into(),
        ));
        env.push((
            "INBOX_JWKS_URL".into(),
            "!If [HasJwksUrl, !Ref JwksUrl, !Ref AWS::NoValue]".into(),
        ));
    }
    if f.public_base_url {
        env.push((
            "INBOX_PUBLIC_BASE_URL".into(),
            "!If [HasPublicBaseUrl, !Ref PublicBaseUrl, !Ref AWS::NoValue]".into(),
        ));
    }
    let _ = writeln!(out, "      Environment:");
    let _ = writeln!(out, "        Variables:");
    for (k, v) in env {
        let _ = writeln!(out, "          {k}: {v}");
    }
    if f.trigger == Trigger::Schedule {
        // A missed minute is covered by the next sweep: no retries, no backlog.
        let _ = writeln!(out, "      EventInvokeConfig:");
        let _ = writeln!(out, "        MaximumEventAgeInSeconds: 60");
        let _ = writeln!(out, "        MaximumRetryAttempts: 0");
    }
    // API Gateway's WebSocket routes and authorizers are wired by hand:
    // SAM has no event for them.
    if matches!(
        f.trigger,
        Trigger::Manual | Trigger::ApiAuthorizer | Trigger::LiveSocket | Trigger::LiveAuthorizer
    ) {
        return;
    }
    let _ = writeln!(out, "      Events:");
    match &f.trigger {
        Trigger::Manual
        | Trigger::ApiAuthorizer
        | Trigger::LiveSocket
        | Trigger::LiveAuthorizer => {}
        Trigger::Api(routes) => {
            for r in routes {
                let _ = writeln!(out, "        {}:", event_name(&r.method));
                let _ = writeln!(out, "          Type: HttpApi");
                let _ = writeln!(out, "          Properties:");
                let _ = writeln!(out, "            ApiId: !Ref HttpApi");
                let _ = writeln!(out, "            Method: {}", r.method);
                let _ = writeln!(out, "            Path: {}", r.path);
                if !r.jwt {
                    let _ = writeln!(
                        out,
                        "            # Authenticated by the channel's signature, not a JWT."
                    );
                    let _ = writeln!(out, "            Auth:");
                    let _ = writeln!(out, "              Authorizer: NONE");
                }
            }
        }
        Trigger::Schedule => {
            let _ = writeln!(out, "        Sweep:");
            let _ = writeln!(out, "          Type: Schedule");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Schedule: rate(1 minute)");
            let _ = writeln!(
                out,
                "            Description: Queue the due auto-close timers"
            );
            let _ = writeln!(out, "            Enabled: true");
        }
        Trigger::AutoCloseQueue => {
            let _ = writeln!(out, "        Timers:");
            let _ = writeln!(out, "          Type: SQS");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Queue: !GetAtt AutoCloseQueue.Arn");
            let _ = writeln!(out, "            BatchSize: 10");
            let _ = writeln!(
                out,
                "            # Only the failed timers of a batch are retried."
            );
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
            let _ = writeln!(
                out,
                "            # Bounds the write burst on the table when many timers come due at once."
            );
            let _ = writeln!(out, "            ScalingConfig:");
            let _ = writeln!(
                out,
                "              MaximumConcurrency: !Ref AutoCloseWorkerMaxConcurrency"
            );
        }
        Trigger::JobsQueue => {
            let _ = writeln!(out, "        Steps:");
            let _ = writeln!(out, "          Type: SQS");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Queue: !GetAtt JobsQueue.Arn");
            let _ = writeln!(
                out,
                "            # One step per invocation: each may take most of the timeout."
            );
            let _ = writeln!(out, "            BatchSize: 1");
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
        }
        Trigger::SendQueue => {
            let _ = writeln!(out, "        Attempts:");
            let _ = writeln!(out, "          Type: SQS");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Queue: !GetAtt SendQueue.Arn");
            let _ = writeln!(out, "            BatchSize: 10");
            let _ = writeln!(
                out,
                "            # Only the attempts that must come back are retried."
            );
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
        }
        Trigger::AgentQueue => {
            let _ = writeln!(out, "        Requests:");
            let _ = writeln!(out, "          Type: SQS");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Queue: !GetAtt AgentQueue.Arn");
            let _ = writeln!(out, "            BatchSize: 10");
            let _ = writeln!(
                out,
                "            # Only the requests that failed inside the inbox come back."
            );
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
        }
        Trigger::WebhookQueue => {
            let _ = writeln!(out, "        Tasks:");
            let _ = writeln!(out, "          Type: SQS");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Queue: !GetAtt WebhookQueue.Arn");
            let _ = writeln!(out, "            BatchSize: 10");
            let _ = writeln!(
                out,
                "            # A retry's record, and its lane's after it, come back; the rest are done."
            );
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
        }
        Trigger::ChangeFeed => {
            let pattern = "{\"eventName\": [\"INSERT\", \"MODIFY\"], \"dynamodb\": {\"NewImage\": {\"entity\": {\"S\": [\"timeline\", \"message\"]}}}}";
            let _ = writeln!(out, "        Changes:");
            let _ = writeln!(out, "          Type: DynamoDB");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Stream: !GetAtt Table.StreamArn");
            let _ = writeln!(
                out,
                "            # From the oldest record kept: a change is never skipped."
            );
            let _ = writeln!(out, "            StartingPosition: TRIM_HORIZON");
            let _ = writeln!(out, "            BatchSize: 100");
            let _ = writeln!(out, "            MaximumBatchingWindowInSeconds: 1");
            let _ = writeln!(
                out,
                "            # The first record of a run that could not be queued, and all after it."
            );
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
            let _ = writeln!(
                out,
                "            # Retried until it succeeds, in order: only an outage fails a batch."
            );
            let _ = writeln!(out, "            MaximumRetryAttempts: -1");
            let _ = writeln!(
                out,
                "            # Timeline events and messages as stored; every other write is not news."
            );
            let _ = writeln!(out, "            FilterCriteria:");
            let _ = writeln!(out, "              Filters:");
            let _ = writeln!(out, "                - Pattern: {}", yaml_str(pattern));
        }
        Trigger::TableStream => {
            let pattern = format!(
                "{{\"eventName\": [\"INSERT\"], \"dynamodb\": {{\"NewImage\": {{\"sk\": {{\"S\": [{{\"prefix\": \"{OUTBOX_PREFIX}\"}}]}}}}}}}}"
            );
            let _ = writeln!(out, "        Outbox:");
            let _ = writeln!(out, "          Type: DynamoDB");
            let _ = writeln!(out, "          Properties:");
            let _ = writeln!(out, "            Stream: !GetAtt Table.StreamArn");
            let _ = writeln!(
                out,
                "            # From the oldest record kept: an event is never skipped."
            );
            let _ = writeln!(out, "            StartingPosition: TRIM_HORIZON");
            let _ = writeln!(out, "            BatchSize: 100");
            let _ = writeln!(out, "            MaximumBatchingWindowInSeconds: 1");
            let _ = writeln!(
                out,
                "            FunctionResponseTypes: [ReportBatchItemFailures]"
            );
            let _ = writeln!(out, "            BisectBatchOnFunctionError: true");
            let _ = writeln!(
                out,
                "            # Retried until it succeeds: the function dead-letters what it"
            );
            let _ = writeln!(
                out,
                "            # cannot publish, so only an outage of the queue too fails a batch."
            );
            let _ = writeln!(out, "            MaximumRetryAttempts: -1");
            let _ = writeln!(
                out,
                "            # Only new outbox items are events; every other write is state."
            );
            let _ = writeln!(out, "            FilterCriteria:");
            let _ = writeln!(out, "              Filters:");
            let _ = writeln!(out, "                - Pattern: {}", yaml_str(&pattern));
            let _ = writeln!(out, "            DestinationConfig:");
            let _ = writeln!(out, "              OnFailure:");
            let _ = writeln!(out, "                Type: SQS");
            let _ = writeln!(
                out,
                "                Destination: !GetAtt EventsDeadLetterQueue.Arn"
            );
        }
    }
}

fn render_log_group(out: &mut String, f: &FunctionSpec) {
    let _ = writeln!(out, "  {}:", log_group_id(&f.name));
    let _ = writeln!(out, "    Type: AWS::Logs::LogGroup");
    let _ = writeln!(out, "    DeletionPolicy: Delete");
    let _ = writeln!(out, "    UpdateReplacePolicy: Delete");
    let _ = writeln!(out, "    Properties:");
    let _ = writeln!(out, "      RetentionInDays: !Ref LogRetentionDays");
}

fn statement(out: &mut String, sid: &str, actions: &[&str], resources: &[String]) {
    let _ = writeln!(out, "              - Sid: {sid}");
    let _ = writeln!(out, "                Effect: Allow");
    let _ = writeln!(out, "                Action:");
    for a in actions {
        let _ = writeln!(out, "                  - {a}");
    }
    let _ = writeln!(out, "                Resource:");
    for r in resources {
        let _ = writeln!(out, "                  - {r}");
    }
}

/// The invitation function's right to create users: a policy of its own,
/// present only when the stack has its Cognito user pool.
fn render_invite_policy(out: &mut String, f: &FunctionSpec) {
    let _ = writeln!(out, "  {}CreateUsersPolicy:", logical_stem(&f.name));
    let _ = writeln!(out, "    Type: AWS::IAM::Policy");
    let _ = writeln!(out, "    Condition: UseCognito");
    let _ = writeln!(out, "    Properties:");
    let _ = writeln!(out, "      PolicyName: {}-create-users", f.name);
    let _ = writeln!(out, "      Roles: [!Ref {}]", role_id(&f.name));
    let _ = writeln!(out, "      PolicyDocument:");
    let _ = writeln!(out, "        Version: \"2012-10-17\"");
    let _ = writeln!(out, "        Statement:");
    let _ = writeln!(out, "          - Sid: InviteMembers");
    let _ = writeln!(out, "            Effect: Allow");
    let _ = writeln!(out, "            Action:");
    let _ = writeln!(out, "              - cognito-idp:AdminCreateUser");
    let _ = writeln!(out, "            Resource:");
    let _ = writeln!(out, "              - !GetAtt UserPool.Arn");
}

fn render_role(out: &mut String, f: &FunctionSpec) {
    let _ = writeln!(out, "  {}:", role_id(&f.name));
    let _ = writeln!(out, "    Type: AWS::IAM::Role");
    let _ = writeln!(out, "    Properties:");
    let _ = writeln!(
        out,
        "      Description: {}",
        yaml_str(&format!("Runs {}", f.name))
    );
    let _ = writeln!(out, "      AssumeRolePolicyDocument:");
    let _ = writeln!(out, "        Version: \"2012-10-17\"");
    let _ = writeln!(out, "        Statement:");
    let _ = writeln!(out, "          - Effect: Allow");
    let _ = writeln!(out, "            Principal:");
    let _ = writeln!(out, "              Service: lambda.amazonaws.com");
    let _ = writeln!(out, "            Action: sts:AssumeRole");
    let _ = writeln!(out, "      Policies:");
    let _ = writeln!(out, "        - PolicyName: {}", f.name);
    let _ = writeln!(out, "          PolicyDocument:");
    let _ = writeln!(out, "            Version: \"2012-10-17\"");
    let _ = writeln!(out, "            Statement:");
    statement(
        out,
        "OwnLogGroup",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        &[format!("!GetAtt {}.Arn", log_group_id(&f.name))],
    );
    let table_and_indexes = [
        "!GetAtt Table.Arn".to_string(),
        "!Sub \"${Table.Arn}/index/*\"".to_string(),
    ];
    match f.table {
        TableAccess::None => {}
        TableAccess::Read => statement(out, "ReadTable", &TABLE_READ_ACTIONS, &table_and_indexes),
        TableAccess::ReadWrite => {
            statement(out, "ReadTable", &TABLE_READ_ACTIONS, &table_and_indexes);
            statement(
                out,
                "WriteTableItems",
                &TABLE_WRITE_ACTIONS,
                &["!GetAtt Table.Arn".to_string()],
            );
        }
        TableAccess::ReadUpdate => {
            statement(out, "ReadTable", &TABLE_READ_ACTIONS, &table_and_indexes);
            statement(
                out,
                "UpdateTableItems",
                &TABLE_UPDATE_ACTIONS,
                &["!GetAtt Table.Arn".to_string()],
            );
        }
        TableAccess::ApiKeyItems => {
            statement(
                out,
                "ReadApiKeysAndRecordUse",
                &["dynamodb:GetItem", "dynamodb:UpdateItem"],
                &["!GetAtt Table.Arn".to_string()],
            );
            // Only items whose partition key is an API key's: no conversation, member or setting.
            let _ = writeln!(out, "                Condition:");
            let _ = writeln!(out, "                  ForAllValues:StringLike:");
            let _ = writeln!(out, "                    dynamodb:LeadingKeys:");
            let _ = writeln!(out, "                      - \"{API_KEY_PREFIX}*\"");
        }
        TableAccess::LiveConnections => {
            statement(
                out,
                "ReadTable",
                &["dynamodb:GetItem", "dynamodb:Query"],
                &["!GetAtt Table.Arn".to_string()],
            );
            statement(
                out,
                "RecordLiveConnections",
                &["dynamodb:PutItem", "dynamodb:DeleteItem"],
                &["!GetAtt Table.Arn".to_string()],
            );
            live_items_only(out);
        }
        TableAccess::QueryTimers => statement(
            out,
            "QueryDueTimers",
            &["dynamodb:Query"],
            &[format!("!Sub \"${{Table.Arn}}/index/{}\"", TIMERS.name)],
        ),
    }
    if f.manages_connections {
        // Post to and close this API's connections; nothing else of API Gateway.
        statement(
            out,
            "PostToLiveConnections",
            &["execute-api:ManageConnections"],
            &["!Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${LiveApi}/${LiveStage}/*/@connections/*\"".to_string()],
        );
        if f.table != TableAccess::LiveConnections {
            statement(
                out,
                "ForgetGoneLiveConnections",
                &["dynamodb:DeleteItem"],
                &["!GetAtt Table.Arn".to_string()],
            );
            live_items_only(out);
        }
    }
    match f.exports {
        ExportsAccess::None | ExportsAccess::Name => {}
        ExportsAccess::Link => statement(
            out,
            "LinkExportFiles",
            &["s3:GetObject"],
            &["!Sub \"${ExportsBucket.Arn}/*\"".to_string()],
        ),
        ExportsAccess::Write => statement(
            out,
            "WriteExportFiles",
            &["s3:PutObject"],
            &["!Sub \"${ExportsBucket.Arn}/*\"".to_string()],
        ),
    }
    if f.sends_jobs {
        statement(
            out,
            "QueueJobSteps",
            &["sqs:SendMessage"],
            &["!GetAtt JobsQueue.Arn".to_string()],
        );
    }
    if f.sends_autoclose {
        statement(
            out,
            "SendTimers",
            &["sqs:SendMessage"],
            &["!GetAtt AutoCloseQueue.Arn".to_string()],
        );
    }
    match f.trigger {
        Trigger::AutoCloseQueue => statement(
            out,
            "ConsumeTimers",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            &["!GetAtt AutoCloseQueue.Arn".to_string()],
        ),
        Trigger::JobsQueue => statement(
            out,
            "ConsumeJobSteps",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            &["!GetAtt JobsQueue.Arn".to_string()],
        ),
        Trigger::SendQueue => statement(
            out,
            "ConsumeAndQueueAttempts",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:SendMessage",
            ],
            &["!GetAtt SendQueue.Arn".to_string()],
        ),
        Trigger::AgentQueue => statement(
            out,
            "ConsumeReplyRequests",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            &["!GetAtt AgentQueue.Arn".to_string()],
        ),
        Trigger::WebhookQueue => statement(
            out,
            "ConsumeAndHoldBackTasks",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            ],
            &["!GetAtt WebhookQueue.Arn".to_string()],
        ),
        Trigger::TableStream | Trigger::ChangeFeed => {
            if f.trigger == Trigger::ChangeFeed {
                statement(
                    out,
                    "QueueWebhookTasks",
                    &["sqs:SendMessage"],
                    &["!GetAtt WebhookQueue.Arn".to_string()],
                );
            }
            statement(
                out,
                "ReadTableStream",
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                ],
                &["!GetAtt Table.StreamArn".to_string()],
            );
            statement(
                out,
                "ListTableStreams",
                &["dynamodb:ListStreams"],
                &["!Sub \"${Table.Arn}/stream/*\"".to_string()],
            );
        }
        _ => {}
    }
    match f.events_dlq {
        DlqAccess::None => {}
        // The function's own dead letters, and the stream mapping's failure destination.
        DlqAccess::Send => statement(
            out,
            "DeadLetterEvents",
            &["sqs:SendMessage"],
            &["!GetAtt EventsDeadLetterQueue.Arn".to_string()],
        ),
        DlqAccess::Consume => statement(
            out,
            "ReplayDeadLetters",
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            &["!GetAtt EventsDeadLetterQueue.Arn".to_string()],
        ),
    }
    if f.publishes_events {
        statement(
            out,
            "PublishEvents",
            &["events:PutEvents"],
            &["!GetAtt EventBus.Arn".to_string()],
        );
    }
}

/// Confines the statement just written to live connection items (`LIVE#*`).
fn live_items_only(out: &mut String) {
    let _ = writeln!(out, "                Condition:");
    let _ = writeln!(out, "                  ForAllValues:StringLike:");
    let _ = writeln!(out, "                    dynamodb:LeadingKeys:");
    let _ = writeln!(out, "                      - \"{LIVE_PREFIX}*\"");
}

fn render_alarms(out: &mut String, f: &FunctionSpec) {
    let stem = logical_stem(&f.name);
    let mut metrics: Vec<(&str, &str, &str, u32)> = vec![
        ("Errors", "Sum", "failed invocations", 1),
        ("Throttles", "Sum", "throttled invocations", 1),
    ];
    if matches!(f.trigger, Trigger::TableStream | Trigger::ChangeFeed) {
        // Records older than five minutes mean the consumer is falling behind.
        metrics.push((
            "IteratorAge",
            "Maximum",
            "stream records waiting over 5 minutes",
            300_000,
        ));
    }
    for (metric, statistic, what, threshold) in metrics {
        let _ = writeln!(out, "  {stem}{metric}Alarm:");
        let _ = writeln!(out, "    Type: AWS::CloudWatch::Alarm");
        let _ = writeln!(out, "    Properties:");
        let _ = writeln!(
            out,
            "      AlarmDescription: {}",
            yaml_str(&format!("{}: {what}.", f.name))
        );
        let _ = writeln!(out, "      Namespace: AWS/Lambda");
        let _ = writeln!(out, "      MetricName: {metric}");
        let _ = writeln!(out, "      Dimensions:");
        let _ = writeln!(out, "        - Name: FunctionName");
        let _ = writeln!(out, "          Value: !Ref {}", function_id(&f.name));
        let _ = writeln!(out, "      Statistic: {statistic}");
        let _ = writeln!(out, "      Period: 300");
        let _ = writeln!(out, "      EvaluationPeriods: 1");
        let _ = writeln!(out, "      Threshold: {threshold}");
        let _ = writeln!(
            out,
            "      ComparisonOperator: GreaterThanOrEqualToThreshold"
        );
        let _ = writeln!(out, "      TreatMissingData: notBreaching");
        let _ = writeln!(out, "      AlarmActions: [!Ref AlarmTopic]");
        let _ = writeln!(out, "      OKActions: [!Ref AlarmTopic]");
    }
}

fn event_name(method: &str) -> String {
    let lower = method.to_ascii_lowercase();
    logical_stem(&lower)
}

// A double-quoted YAML scalar.
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// `template` with its generated block replaced by `block`.
pub fn splice(template: &str, block: &str) -> Result<String, String> {
    let begin = template
        .find(BEGIN_MARKER)
        .ok_or_else(|| format!("the template has no `{}` line", BEGIN_MARKER.trim()))?;
    let end_start = template
        .find(END_MARKER)
        .ok_or_else(|| format!("the template has no `{}` line", END_MARKER.trim()))?;
    if end_start < begin {
        return Err("the END marker comes before the BEGIN marker".into());
    }
    let end = end_start + END_MARKER.len();
    let end = if template[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    Ok(format!(
        "{}{}{}",
        &template[..begin],
        block,
        &template[end..]
    ))
}

/// The template as it should be: the committed one with a fresh generated block.
pub fn expected_template() -> Result<String, String> {
    let root = workspace_root();
    let path = root.join("infra").join("template.yaml");
    let current = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    splice(&current, &render())
}
