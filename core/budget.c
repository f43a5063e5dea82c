/*
 * budget.c - the run's hard spending cap (llmroute(1), CATALOG).
 * Before each call a
 * stage reserves the worst case; when the answer arrives the reservation
 * is replaced by what was spent.  Reserved + settled never exceeds the
 * cap, so spend never does either.
 */
#include <stdlib.h>

#include "core.h"

static double cap = -1;       /* < 0: no budget */
static double committed;      /* settled + outstanding reservations */
static double *tickets;       /* outstanding reservation by ticket */
static long nticket, capticket;

void budget_init(double cap_usd)
{
  cap = cap_usd;
  committed = 0;
  free(tickets);
  tickets = NULL;
  nticket = capticket = 0;
}

int budget_reserve(double usd, long *ticket)
{
  if(usd < 0)
    usd = 0;
  if(cap >= 0 && committed + usd > cap + 1e-12)
    return LLMR_EBUDGET;
  if(nticket == capticket) {
    long nc = capticket ? capticket * 2 : 1024;
    double *t = realloc(tickets, (size_t)nc * sizeof(*t));

    if(!t)
      return LLMR_ENOMEM;
    tickets = t;
    capticket = nc;
  }
  tickets[nticket] = usd;
  *ticket = nticket++;
  committed += usd;
  return LLMR_OK;
}

void budget_settle(long ticket, double actual_usd)
{
  if(ticket < 0 || ticket >= nticket || tickets[ticket] < 0)
    return;
  if(actual_usd < 0)
    actual_usd = 0;
  committed += actual_usd - tickets[ticket];
  tickets[ticket] = -1; /* settled */
}
