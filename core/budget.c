/*
 * budget.c - the run's hard spending cap (llmroute(1), CATALOG).
 * Before each call a stage reserves the worst case; when the answer
 * arrives the reservation is replaced by what was spent, even when that
 * is more (a provider billed more input than estimated): the overrun
 * counts against the cap at once, so later reservations see it.  A
 * reservation is refused when reserved + spent + it would pass the cap.
 * So spend passes the cap only by what calls already sent were billed
 * beyond their reservations.  Settled tickets are reused.
 */
#include <stdlib.h>

#include "core.h"

static double cap = -1;       /* < 0: no budget */
static double committed;      /* settled + outstanding reservations */
static double *tickets;       /* outstanding reservation by ticket, -1
                                 when settled */
static long nticket, capticket;
static long *free_tickets;    /* settled tickets, to reuse */
static long nfree;

void budget_init(double cap_usd)
{
  cap = cap_usd;
  committed = 0;
  free(tickets);
  free(free_tickets);
  tickets = NULL;
  free_tickets = NULL;
  nticket = capticket = nfree = 0;
}

int budget_reserve(double usd, long *ticket)
{
  if(usd < 0)
    usd = 0;
  if(cap >= 0 && committed + usd > cap + 1e-12)
    return LLMR_EBUDGET;
  if(nfree) {
    *ticket = free_tickets[--nfree];
    tickets[*ticket] = usd;
    committed += usd;
    return LLMR_OK;
  }
  if(nticket == capticket) {
    long nc = capticket ? capticket * 2 : 1024;
    double *t = realloc(tickets, (size_t)nc * sizeof(*t));

    long *fr = realloc(free_tickets, (size_t)nc * sizeof(*fr));

    if(!t || !fr) {
      if(t)
        tickets = t;
      if(fr)
        free_tickets = fr;
      return LLMR_ENOMEM;
    }
    tickets = t;
    free_tickets = fr;
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
  tickets[ticket] = -1; /* settled: free for the next reservation */
  free_tickets[nfree++] = ticket;
}

double budget_cap(void)
{
  return cap;
}
