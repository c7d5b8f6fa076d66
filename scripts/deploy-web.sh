#!/usr/bin/env bash
# Deploys the web inbox to a stack made from infra/template.yaml: builds the
# page, writes its config.json from the stack's outputs (the API, live
# updates and the Cognito hosted sign-in; scripts/web_config.py), uploads
# both to the stack's private bucket and invalidates the distribution's
# copies of index.html and config.json. Needs the AWS CLI and credentials.
#
#   scripts/deploy-web.sh <stack-name> [<authority> <client-id>]   # the last two for another identity provider
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:?usage: scripts/deploy-web.sh <stack-name> [<authority> <client-id>]}
shift

npm --prefix web ci --no-audit --no-fund --loglevel=error
npm --prefix web run build --silent

described=$(aws cloudformation describe-stacks --stack-name "$stack" --output json)
output() { python3 -c "import json,sys; print(next(o['OutputValue'] for o in json.load(sys.stdin)['Stacks'][0]['Outputs'] if o['OutputKey']=='$1'))" <<<"$described"; }
python3 scripts/web_config.py "$@" <<<"$described" >web/dist/config.json
bucket=$(output WebBucketName)
distribution=$(output WebDistributionId)

# Hashed assets first (they can be cached for good), then the page and its config.
aws s3 sync web/dist/assets "s3://$bucket/assets" --delete --cache-control "public, max-age=31536000, immutable"
aws s3 cp web/dist/index.html "s3://$bucket/index.html" --cache-control "no-cache"
aws s3 cp web/dist/config.json "s3://$bucket/config.json" --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$distribution" --paths /index.html /config.json >/dev/null
echo "deploy-web: $(output WebUrl)"
