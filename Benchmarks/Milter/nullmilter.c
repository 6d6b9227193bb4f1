/*
 * A milter that does nothing, for Benchmarks/Milter/run.sh: the ceiling any milter can reach in
 * front of Postfix on this machine. It negotiates what Moat's Milter interface negotiates (the
 * same actions, the same steps skipped or left unanswered, the same three macros), so Postfix's
 * smtpd and cleanup do the same milter work per message as with Moat; then it accepts every
 * message unread. Sendmail's libmilter (libmilter-dev), one thread per connection.
 *
 * usage: nullmilter PORT   (listens on 127.0.0.1:PORT)
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The steps Postfix agreed not to wait for; the same for every connection (one MTA). */
static unsigned long agreed_steps;

static sfsistat step(unsigned long no_reply) {
    return (agreed_steps & no_reply) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
                          unsigned long unused2, unsigned long unused3,
                          unsigned long *want_actions, unsigned long *want_steps,
                          unsigned long *want2, unsigned long *want3) {
    (void)unused2; (void)unused3;
    /* MilterSession.wantedActions and wantedSteps. */
    *want_actions = actions & (SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_SETSYMLIST);
    *want_steps = steps & (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH
                           | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT
                           | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_HDR
                           | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC);
    *want2 = 0;
    *want3 = 0;
    agreed_steps = *want_steps;
    if (*want_actions & SMFIF_SETSYMLIST) {   /* MilterSession.wantedMacros */
        smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_addr} {daemon_port}");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "i");
        smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *c, char *h, _SOCK_ADDR *a) { (void)c; (void)h; (void)a; return step(SMFIP_NR_CONN); }
static sfsistat on_helo(SMFICTX *c, char *h) { (void)c; (void)h; return step(SMFIP_NR_HELO); }
static sfsistat on_mail(SMFICTX *c, char **v) { (void)c; (void)v; return step(SMFIP_NR_MAIL); }
static sfsistat on_rcpt(SMFICTX *c, char **v) { (void)c; (void)v; return step(SMFIP_NR_RCPT); }
static sfsistat on_header(SMFICTX *c, char *n, char *v) { (void)c; (void)n; (void)v; return step(SMFIP_NR_HDR); }
static sfsistat on_body(SMFICTX *c, unsigned char *b, size_t n) { (void)c; (void)b; (void)n; return step(SMFIP_NR_BODY); }
static sfsistat on_eom(SMFICTX *c) { (void)c; return SMFIS_ACCEPT; }
static sfsistat on_abort(SMFICTX *c) { (void)c; return SMFIS_CONTINUE; }
static sfsistat on_close(SMFICTX *c) { (void)c; return SMFIS_CONTINUE; }

int main(int argc, char **argv) {
    if (argc != 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    /* Every callback set: libmilter asks the MTA to skip the steps of a missing one, and the
     * point is to get the steps Moat gets. */
    struct smfiDesc desc = {
        .xxfi_name = "nullmilter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
        .xxfi_connect = on_connect,
        .xxfi_helo = on_helo,
        .xxfi_envfrom = on_mail,
        .xxfi_envrcpt = on_rcpt,
        .xxfi_header = on_header,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_abort,
        .xxfi_close = on_close,
        .xxfi_negotiate = negotiate,
    };
    char conn[64];
    snprintf(conn, sizeof conn, "inet:%d@127.0.0.1", atoi(argv[1]));
    if (smfi_setconn(conn) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
        fprintf(stderr, "nullmilter: cannot register on %s\n", conn);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
