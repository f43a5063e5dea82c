# refresh_prices.jq - rewrite the prices of pipelines/models.json from a
# LiteLLM-format price table (USD per token), keeping everything else.
#
#   jq --slurpfile lp model_prices_and_context_window.json \
#      -f tests/tools/refresh_prices.jq pipelines/models.json
#
# `make prices [PRICES=FILE]` runs it.  Each model (and each deployment
# with prices of its own) names its entry in the table with litellm_key.
# input/output/cached-input prices become USD per million tokens; an entry
# without a cache-read price gets its input price there.  An entry missing
# from the table, or without prices, keeps its old prices and is named on
# stderr.

# USD per token -> USD per Mtok, rounded to 1e-9 (0.11 stays 0.11).
def mtok: (. * 1e15 | round) / 1e9;

def refresh($p):
  if (.litellm_key | type) != "string" then .
  elif ($p[.litellm_key] | type) != "object"
       or ($p[.litellm_key].input_cost_per_token | type) != "number"
       or ($p[.litellm_key].output_cost_per_token | type) != "number"
  then (("refresh_prices: no prices for " + .litellm_key + ", kept\n")
        | stderr) as $_ | .
  else $p[.litellm_key] as $e
    | .input_usd_per_mtok = ($e.input_cost_per_token | mtok)
    | .output_usd_per_mtok = ($e.output_cost_per_token | mtok)
    | .cached_input_usd_per_mtok =
        (if ($e.cache_read_input_token_cost | type) == "number"
         then $e.cache_read_input_token_cost | mtok
         else $e.input_cost_per_token | mtok end)
  end;

$lp[0] as $p
| .models |= with_entries(
    .value |= (refresh($p)
               | if (.deployments | type) == "array"
                 then .deployments |= map(refresh($p)) else . end))
