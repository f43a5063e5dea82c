/*
 * budget.c - the run's hard spending cap (llmroute(1), CATALOG).
 * Before each call a stage reserves the worst case; when the answer
 * arrives the reservation is replaced by what was spent, even when that
 * is more (a provider billed more input than estimated): the overrun
 * counts against the cap at once, so later reservations see it.  A
 * reservation is refused when reserved + spent + it would pass the cap.
 * So spend passes the cap only by what calls already sent were billed
 * beyond their reservations.  Settled tickets are reused.
 *
 * With shared= (shared.c) the cap is the run's, across its processes:
 * each reservation is made in the shared server too, and a ticket
 * remembers the lease generation it was made under.
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
static long *gens;            /* shared: the lease generation by ticket */

void budget_init(double cap_usd)
{
  cap = cap_usd;
  committed = 0;
  free(tickets);
  free(free_tickets);
  free(gens);
  tickets = NULL;
  free_tickets = NULL;
  gens = NULL;
  nticket = capticket = nfree = 0;
}

int budget_reserve(double usd, long *ticket)
{
  long gen = 0;

  if(usd < 0)
    usd = 0;
  if(!shared_active() && cap >= 0 && committed + usd > cap + 1e-12)
    return LLMR_EBUDGET;
  if(!nfree && nticket == capticket) {
    long nc = capticket ? capticket * 2 : 1024;
    double *t = realloc(tickets, (size_t)nc * sizeof(*t));

    long *fr = realloc(free_tickets, (size_t)nc * sizeof(*fr));

    long *g = realloc(gens, (size_t)nc * sizeof(*g));

    if(t)
      tickets = t;
    if(fr)
      free_tickets = fr;
    if(g)
      gens = g;
    if(!t || !fr || !g)
      return LLMR_ENOMEM;
    capticket = nc;
  }
  if(shared_active()) {
    int r = shared_reserve(usd, &gen);

    if(r)
      return r > 0 ? LLMR_EBUDGET : LLMR_EUNAVAIL;
  }
  *ticket = nfree ? free_tickets[--nfree] : nticket++;
  tickets[*ticket] = usd;
  gens[*ticket] = gen;
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
  if(shared_active())
    shared_settle(gens[ticket], tickets[ticket], actual_usd);
  tickets[ticket] = -1; /* settled: free for the next reservation */
  free_tickets[nfree++] = ticket;
}

double budget_cap(void)
{
  return cap;
}
