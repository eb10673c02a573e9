#!/bin/bash
# migrate_traffic.sh, reconstructed from the seed article (test data: it patches the
# route that is never reached).
WEIGHT=${1:-5}
kubectl patch virtualservice deerflow-api -n deerflow-prod \
  --type='json' \
  -p="[{\"op\":\"replace\",\"path\":\"/spec/http/0/route/0/weight\",\"value\":${WEIGHT}},{\"op\":\"replace\",\"path\":\"/spec/http/1/route/0/weight\",\"value\":$((100-WEIGHT))}]"
