/*
 * main.c - the command line (llmroute(1), OPTIONS).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static void usage(FILE *out)
{
  fprintf(out,
"Usage: llmroute [OPTIONS] [FILE...]\n"
"       llmroute report [--format table|json|csv|markdown] [--by GROUPING]\n"
"                       [--all] [--html PAGE] [FILE|RUNS.DB...]\n"
"                       (report --help)\n"
"       llmroute train [-o MODEL] FILE...\n"
"\n"
"Read JSONL chat requests from the FILEs (or stdin when none, or '-'),\n"
"push each through the stages of a pipeline, and write one JSON result\n"
"line per request on stdout.  A one-line summary of the run (requests,\n"
"errors by code, cost against the baseline, time) ends it on stderr.\n"
"\n"
"Options:\n"
"  -p, --pipeline PIPELINE  a pipeline file, or a NAME looked up as\n"
"                           <share>/pipelines/NAME.pipeline (default:\n"
"                           default)\n"
"  -j, --jobs N             the most requests in flight (default 64, or\n"
"                           the pipeline's `set concurrency=`)\n"
"      --keep-order         results in input order (default: as they\n"
"                           finish)\n"
"      --budget USD         hard spending cap for the run (with `set\n"
"                           shared=`: for all the run's processes)\n"
"      --resume PATH        skip requests whose custom_id already has a\n"
"                           successful result in PATH: a results file,\n"
"                           a folder of them (shard outputs), or - for\n"
"                           stdin (when the input is FILEs); repeatable\n"
"      --custom-ids SCHEME  the custom_id of a line without one: content\n"
"                           (default; h-HASH of the line's bytes, #2, #3\n"
"                           for repeats: the same in every run and\n"
"                           shard) or line (line-N); env\n"
"                           LLMROUTE_CUSTOM_IDS\n"
"      --progress           progress on stderr (default: when a tty):\n"
"                           done/total, %%, rate, ETA, in flight, errors,\n"
"                           $ spent against --budget and the baseline;\n"
"                           redrawn in place on a terminal, else a line\n"
"                           every 5 s\n"
"      --progress-interval S  seconds between progress lines\n"
"      --total N            requests expected, for the percentage and ETA\n"
"                           (default: the input files' lines, counted\n"
"                           when they are regular files)\n"
"  -q, --quiet              no progress, no end-of-run summary, warnings\n"
"                           only when fatal\n"
"  -v, --verbose            more messages on stderr (repeatable)\n"
"      --check              load and check the pipeline, read nothing\n"
"      --catalog FILE       use this catalog instead of the pipeline's\n"
"                           (its `set baseline=` then goes too, unless\n"
"                           --baseline names one)\n"
"      --baseline MODEL     the model baseline costs are priced on\n"
"      --output-format FMT  result lines as llmroute (default: OpenAI\n"
"                           Batch output lines with \"route\"), openai\n"
"                           (exactly the OpenAI Batch output line) or\n"
"                           anthropic (the Message Batches results line)\n"
"      --dry-run            run the stages before `call`, send nothing;\n"
"                           each result carries the request as it would\n"
"                           leave the pipeline (\"request\")\n"
"      --help-stage NAME    the options of a stage plugin\n"
"  -h, --help               this help\n"
"  -V, --version            the version and the stage ABI\n"
"\n"
"Environment: LLMROUTE_SHARED=redis://HOST:PORT/DB and LLMROUTE_RUN=NAME\n"
"share one budget and the providers' rate limits with every process of\n"
"run NAME (as `set shared= run=`; see llmroute(1), SCALING OUT).\n"
"\n"
"Exit status: 0 all requests succeeded, 1 some result is an error\n"
"record, 2 usage, pipeline or catalog error (nothing read), 74 the\n"
"results could not be written (a full disk), 130 interrupted, 141 stdout\n"
"closed (| head).\n");
}

static int parse_jobs(const char *s, int *out)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if(!*s || *end || errno || v < 1 || v > 1000000)
    return -1;
  *out = (int)v;
  return 0;
}

static int help_stage(const char *name)
{
  char *path = strchr(name, '/') ? strdup(name) : loader_find(name);
  void *dl;
  const struct llmr_stage *d;
  char err[512];

  if(!path) {
    fprintf(stderr, "llmroute: no stage plugin '%s'\n", name);
    return 2;
  }
  if(loader_open(path, &dl, &d, err, sizeof(err))) {
    fprintf(stderr, "llmroute: %s\n", err);
    free(path);
    return 2;
  }
  options_print(d, stdout);
  free(path);
  return 0;
}

enum {
  OPT_KEEP_ORDER = 256,
  OPT_BUDGET,
  OPT_RESUME,
  OPT_CUSTOM_IDS,
  OPT_PROGRESS,
  OPT_PROGRESS_INTERVAL,
  OPT_TOTAL,
  OPT_CHECK,
  OPT_DRY_RUN,
  OPT_CATALOG,
  OPT_BASELINE,
  OPT_HELP_STAGE,
  OPT_OUTPUT_FORMAT
};

static char **resume_paths; /* --resume PATH..., NULL-terminated */

static int run_main(int argc, char **argv)
{
  static const struct option longopts[] = {
    {"pipeline", required_argument, NULL, 'p'},
    {"jobs", required_argument, NULL, 'j'},
    {"keep-order", no_argument, NULL, OPT_KEEP_ORDER},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"custom-ids", required_argument, NULL, OPT_CUSTOM_IDS},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"progress-interval", required_argument, NULL, OPT_PROGRESS_INTERVAL},
    {"total", required_argument, NULL, OPT_TOTAL},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"check", no_argument, NULL, OPT_CHECK},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"help-stage", required_argument, NULL, OPT_HELP_STAGE},
    {"output-format", required_argument, NULL, OPT_OUTPUT_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}
  };
  struct run_opts ro;
  struct pipeline pl;
  const char *pipeline_arg = "default", *catalog = NULL, *baseline = NULL;
  char *path;
  int c, status, check_only = 0, nresume = 0;

  if(argc > 1 && !strcmp(argv[1], "report"))
    return report_main(argc - 1, argv + 1);
  if(argc > 1 && !strcmp(argv[1], "train"))
    return train_main(argc - 1, argv + 1);
  if(argc > 2 && !strcmp(argv[1], "eval") && !strcmp(argv[2], "convert"))
    return eval_convert_main(argc - 2, argv + 2);
  if(argc > 1 && !strcmp(argv[1], "eval"))
    return eval_main(argc - 1, argv + 1);

  memset(&ro, 0, sizeof(ro));
  ro.jobs = 0;
  ro.budget = -1;
  ro.progress = -1;
  ro.custom_ids = getenv("LLMROUTE_CUSTOM_IDS");
  if(ro.custom_ids && !*ro.custom_ids)
    ro.custom_ids = NULL;
  ro.resume = resume_paths;
  while((c = getopt_long(argc, argv, "p:j:qvhV", longopts, NULL)) != -1) {
    switch(c) {
    case 'p':
      pipeline_arg = optarg;
      break;
    case 'j':
      if(parse_jobs(optarg, &ro.jobs)) {
        fprintf(stderr, "llmroute: -j wants a number from 1 to 1000000, "
                "not '%s'\n", optarg);
        return 2;
      }
      break;
    case OPT_KEEP_ORDER:
      ro.keep_order = 1;
      break;
    case OPT_BUDGET: {
      char *end;

      errno = 0;
      ro.budget = strtod(optarg, &end);
      if(!*optarg || *end || errno || !isfinite(ro.budget) ||
         ro.budget < 0) {
        fprintf(stderr, "llmroute: --budget wants an amount in USD >= 0, "
                "not '%s'\n", optarg);
        return 2;
      }
      break;
    }
    case OPT_RESUME:
      ro.resume[nresume++] = optarg;
      break;
    case OPT_CUSTOM_IDS:
      ro.custom_ids = optarg;
      break;
    case OPT_PROGRESS:
      ro.progress = 1;
      break;
    case OPT_PROGRESS_INTERVAL: {
      char *end;

      errno = 0;
      ro.progress_interval = strtod(optarg, &end);
      if(!*optarg || *end || errno || !isfinite(ro.progress_interval) ||
         ro.progress_interval < 0.05 || ro.progress_interval > 86400) {
        fprintf(stderr, "llmroute: --progress-interval wants seconds from "
                "0.05 to 86400, not '%s'\n", optarg);
        return 2;
      }
      break;
    }
    case OPT_TOTAL: {
      char *end;
      long v;

      errno = 0;
      v = strtol(optarg, &end, 10);
      if(!*optarg || *end || errno || v < 1) {
        fprintf(stderr, "llmroute: --total wants a number of requests "
                ">= 1, not '%s'\n", optarg);
        return 2;
      }
      ro.total = v;
      break;
    }
    case 'q':
      ro.progress = 0;
      ro.quiet = 1;
      llmr_log_level = LLMR_LOG_ERROR;
      break;
    case 'v':
      if(llmr_log_level < LLMR_LOG_DEBUG)
        llmr_log_level++;
      break;
    case OPT_CHECK:
      check_only = 1;
      break;
    case OPT_DRY_RUN:
      ro.dry_run = 1;
      break;
    case OPT_CATALOG:
      catalog = optarg;
      break;
    case OPT_BASELINE:
      baseline = optarg;
      break;
    case OPT_HELP_STAGE:
      return help_stage(optarg);
    case OPT_OUTPUT_FORMAT:
      if(!strcmp(optarg, "llmroute"))
        ro.output_format = OUTPUT_LLMROUTE;
      else if(!strcmp(optarg, "openai"))
        ro.output_format = OUTPUT_OPENAI;
      else if(!strcmp(optarg, "anthropic"))
        ro.output_format = OUTPUT_ANTHROPIC;
      else {
        fprintf(stderr, "llmroute: --output-format wants llmroute, openai "
                "or anthropic, not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("llmroute %s (stage ABI %d.%d, %s, libjq 1.6)\n", LLMR_VERSION,
             LLMR_ABI_MAJOR, LLMR_ABI_MINOR, curl_version());
      return 0;
    default:
      fprintf(stderr, "Try 'llmroute --help'.\n");
      return 2;
    }
  }
  if(ro.dry_run && ro.output_format != OUTPUT_LLMROUTE) {
    /* a plan is no provider's result line */
    fprintf(stderr, "llmroute: --dry-run writes llmroute's own result lines "
            "(with \"request\"): not with --output-format %s\n",
            ro.output_format == OUTPUT_OPENAI ? "openai" : "anthropic");
    return 2;
  }
  ro.files = argv + optind;
  if(ids_set_scheme(ro.custom_ids)) {
    fprintf(stderr, "llmroute: --custom-ids (or LLMROUTE_CUSTOM_IDS) wants "
            "content or line, not '%s'\n", ro.custom_ids);
    return 2;
  }
  {
    int i, missing = 0, stdin_input = !ro.files[0], stdin_resume = 0;

    for(i = 0; ro.files[i]; i++)
      stdin_input |= !strcmp(ro.files[i], "-");
    for(i = 0; i < nresume; i++)
      stdin_resume |= !strcmp(ro.resume[i], "-");
    if(stdin_input && stdin_resume) {
      /* one stream cannot be both: say so rather than read results as
         requests, or requests as results */
      fprintf(stderr, "llmroute: --resume -: stdin is the input already; "
              "give the requests as FILEs, or the results as a file\n");
      return 2;
    }

    /* a FILE that cannot be opened is a usage error: nothing is read */
    for(i = 0; ro.files[i]; i++)
      if(strcmp(ro.files[i], "-") && access(ro.files[i], R_OK)) {
        fprintf(stderr, "llmroute: %s: %s\n", ro.files[i], strerror(errno));
        missing = 1;
      }
    if(missing)
      return 2;
  }

  path = pipeline_resolve(pipeline_arg);
  if(!path) {
    fprintf(stderr, "llmroute: out of memory\n");
    return 2;
  }
  if(pipeline_parse(&pl, path) ||
     (catalog && (pipeline_override(&pl, "catalog", catalog) ||
                  (!baseline && pipeline_override(&pl, "baseline", NULL)))) ||
     (baseline && pipeline_override(&pl, "baseline", baseline)) ||
     pipeline_load(&pl)) {
    pipeline_free(&pl);
    free(path);
    return 2;
  }
  free(path);
  if(check_only) {
    ro.files = NULL;
    status = run_pipeline_check(&pl, &ro);
  }
  else
    status = run_pipeline(&pl, &ro);
  pipeline_free(&pl);
  return status;
}

int main(int argc, char **argv)
{
  int status;

  /* every --resume counts: at most one per argument */
  resume_paths = calloc((size_t)argc + 1, sizeof(*resume_paths));
  if(!resume_paths) {
    fprintf(stderr, "llmroute: out of memory\n");
    return 2;
  }
  status = run_main(argc, argv);
  free(resume_paths);
  return status;
}
