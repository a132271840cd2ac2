/*
 * names: the family-name comparison key. Folds with utf8proc (NFKD, case
 * fold, marks stripped) and drops spaces, apostrophes (straight and curly),
 * hyphens and other punctuation, so "D'Amico", "d’amico" and "DAMICO" give
 * one key and "Nicolò" matches "Nicolo". Letters of other scripts are kept
 * (case-folded), never dropped: "Παπαδόπουλος" keys to "παπαδοπουλος".
 * Also used for the search columns of patients.
 */
#ifndef INVITO_NAMES_H
#define INVITO_NAMES_H

struct arena;

/* The key for s (valid UTF-8), in the arena. NULL when s is not valid UTF-8. */
char *names_key(const char *s, struct arena *a);
/* 1 when both names give the same non-empty key. */
int names_match(const char *a, const char *b);

#endif
