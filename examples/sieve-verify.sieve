# sieve-verify.sieve: check the S/MIME signatures of incoming mail with smimectl
# and file the mail by the verdict. examples/sieve-verify.sh runs it with
# Pigeonhole's sieve-test.
#
# Meant as a global script run before each user's own (the filter extension
# is best left to scripts the administrator writes), in dovecot.conf:
#
#   plugin {
#     sieve_before = /etc/dovecot/sieve/sieve-verify.sieve
#     sieve_plugins = sieve_extprograms
#     sieve_global_extensions = +vnd.dovecot.filter
#     sieve_filter_bin_dir = /etc/dovecot/sieve-filter   # smimectl-verify
#   }
require ["vnd.dovecot.filter", "fileinto", "mailbox", "regex"];

# Pass the message through smimectl (examples/sieve-filter/smimectl-verify),
# which adds an Authentication-Results field with one smime= result per
# signer. If it fails, the filter does nothing: the message goes on as it came.
filter "smimectl-verify";

# Only the field naming this host (AUTHSERV_ID in smimectl-verify) counts:
# smimectl removes any that claimed it before (RFC 8601 section 5), and other
# hosts' fields are not ours to trust. Dovecot unfolds the field (each line
# break and tab becomes one space); smimectl writes one smime= result per
# signer, the first right after the authserv-id, the others after a ";".
#
# A signature that failed (bad, untrusted, expired, revoked, not the sender's),
# an algorithm refused by policy, or a malformed message: quarantine. (This
# may also find the words inside a value, a certificate's name say; that only
# quarantines the message, never lets one through.)
if header :regex "Authentication-Results"
		"^mx\\.example\\.net;.*[; ]smime=(fail|policy|permerror)( |;|$)" {
	fileinto :create "Quarantine";
	stop;
}

# The first result passed, and (see above) none failed: the inbox, and on to
# the user's own script. Anchored after the authserv-id, this is a result,
# never text from a certificate.
if header :regex "Authentication-Results" "^mx\\.example\\.net;[[:space:]]+smime=pass( |;|$)" {
	keep;
}

# Everything else (not signed: smime=none; no revocation answer in time:
# smime=temperror; smimectl could not run: no field) is kept too, as Sieve
# does with mail no rule took. A Sieve filter can't ask the MTA to retry: a
# failed filter only leaves the message as it came. So --tempfail-exit
# (write nothing and exit 75 on temperror) is for procmail (see
# examples/procmailrc) or an MTA that runs smimectl itself and defers on 75;
# here temperror mail is delivered with the field saying so.
