/* SPDX-License-Identifier: MIT */
/*
 * libwdsmc error codes. Every function of the library returns 0 or a count on
 * success and a negative number on failure: either a negated errno value
 * (-ENOMEM, -ETIMEDOUT, -ECANCELED...) or one of the negated codes below,
 * which say what errno cannot (which malformation a packet had, why a server
 * ended a session). wdsmc_strerror() names both kinds.
 */
#ifndef WDSMC_ERROR_H
#define WDSMC_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors. Returned negated (-WDSMC_ETRUNC), like errno values.              */
/* ------------------------------------------------------------------------ */

enum {
    WDSMC_EBASE = 4096,
    WDSMC_ETRUNC = 4097,     /* input ends inside a field */
    WDSMC_ETRAILING = 4098,  /* bytes left over after the last field */
    WDSMC_EMAGIC = 4099,     /* MS-WDSMT identifier is not "WD" */
    WDSMC_ESECTYPE = 4100,   /* unknown security header type, or a
                                SecurityDataLen that does not fit the type */
    WDSMC_ECHECKSUM = 4101,  /* checksum does not match the packet */
    WDSMC_ESECUNSUPP = 4102, /* HASH or SIGN security header: parsed but not
                                verifiable by this build */
    WDSMC_EOPCODE = 4103,    /* unknown opcode */
    WDSMC_ECOUNT = 4104,     /* a count or length field does not fit the
                                remaining bytes */
    WDSMC_EADDRLEN = 4105,   /* IP address length other than 4 or 16, or a
                                MAC address length other than 6 */
    WDSMC_ESTRING = 4106,    /* string not NUL-terminated, odd UTF-16 length,
                                or invalid UTF-16/UTF-8 */
    WDSMC_ESTRLEN = 4107,    /* string longer than its limit */
    WDSMC_ERANGE = 4108,     /* a range with start > end */
    WDSMC_ETOOMANY = 4109,   /* more entries than the spec allows (64 CNTCIR
                                ranges, 200 KICK or 250 DEMOTE clients) */
    WDSMC_EOPTION = 4110,    /* an option whose length does not fit its type,
                                or a known option given twice */
    WDSMC_EMISSING = 4111,   /* a required MS-WDSMSI option is absent */
    WDSMC_EVALUE = 4112,     /* a field value outside its domain (progress >
                                100, DataLen > 65448, an empty name) */
    WDSMC_ETOOBIG = 4113,    /* datagram longer than 65507 bytes */
    WDSMC_EHMAC = 4114,      /* HMAC of a HASH packet does not match */
    WDSMC_ESIG = 4115,       /* signature of a SIGN packet does not verify */
    WDSMC_EKEYBLOB = 4116,   /* malformed CryptoAPI key blob (SymKey,
                                SignKey) */

    /* Session outcomes (client side). */
    WDSMC_EKICK_POLICY = 4200,   /* kicked: client does not meet server policy */
    WDSMC_EKICK_FALLBACK = 4201, /* kicked: use another way to get the data */
    WDSMC_EKICK_FAIL = 4202,     /* terminated by server (KICK reason FAIL) */
    WDSMC_ENOCONTENT = 4210,     /* server has no such namespace or content */
    WDSMC_ESERVER = 4211,        /* server refused with another Win32 error */
    WDSMC_EBADREPLY = 4212,      /* server's session parameters are invalid */
    WDSMC_ELAST = 4213,
};

/* Human-readable text for a negative error of this library, whether a codec
 * error above or a plain negative errno. Never returns NULL; the string is
 * static. */
const char *wdsmc_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_ERROR_H */
