/* Test oracle: drives the historical DB 1.85 dbopen(3) of Debian's
 * libdb1-compat. Declarations follow the 4.4BSD <db.h> ABI. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { void *data; size_t size; } DBT;
typedef enum { DB_BTREE, DB_HASH, DB_RECNO } DBTYPE;
typedef struct __db {
	DBTYPE type;
	int (*close)(struct __db *);
	int (*del)(const struct __db *, const DBT *, unsigned int);
	int (*get)(const struct __db *, const DBT *, DBT *, unsigned int);
	int (*put)(const struct __db *, DBT *, const DBT *, unsigned int);
	int (*seq)(const struct __db *, DBT *, DBT *, unsigned int);
	int (*sync)(const struct __db *, unsigned int);
	void *internal;
	int (*fd)(const struct __db *);
} DB;
typedef struct {
	unsigned int bsize, ffactor, nelem, cachesize;
	uint32_t (*hash)(const void *, size_t);
	int lorder;
} HASHINFO;
DB *dbopen(const char *, int, int, DBTYPE, const void *);
#define R_FIRST 3
#define R_NEXT 7
#define R_NOOVERWRITE 8

static void hex(const DBT *d) {
	size_t i;
	for (i = 0; i < d->size; i++)
		printf("%02x", ((unsigned char *)d->data)[i]);
}

static size_t unhex(const char *s, unsigned char *out) {
	size_t n = 0;
	unsigned v;
	while (s[0] && s[1] && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

static char line[1 << 20];
static unsigned char kb[1 << 19], db[1 << 19];

int main(int argc, char **argv) {
	DB *d;
	DBT k, v;
	int r;
	if (argc < 3) {
		fprintf(stderr, "usage: dbtool dump|get|put|create FILE [lorder]\n");
		return 2;
	}
	if (strcmp(argv[1], "create") == 0) {
		HASHINFO hi = { 4096, 32, 256, 0, NULL, argc > 3 ? atoi(argv[3]) : 0 };
		d = dbopen(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644, DB_HASH, &hi);
	} else {
		d = dbopen(argv[2], strcmp(argv[1], "put") == 0 ? O_RDWR : O_RDONLY, 0, DB_HASH, NULL);
	}
	if (d == NULL) {
		printf("OPEN-FAILED %s\n", strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "dump") == 0) {
		for (r = d->seq(d, &k, &v, R_FIRST); r == 0; r = d->seq(d, &k, &v, R_NEXT)) {
			hex(&k); printf(" "); hex(&v); printf("\n");
		}
		if (r < 0) { printf("SEQ-FAILED\n"); return 1; }
	} else if (strcmp(argv[1], "get") == 0) {
		while (fgets(line, sizeof line, stdin)) {
			line[strcspn(line, "\n")] = 0;
			k.data = kb; k.size = unhex(line, kb);
			r = d->get(d, &k, &v, 0);
			if (r == 0) { hex(&v); printf("\n"); }
			else printf(r == 1 ? "-\n" : "ERROR\n");
		}
	} else {
		/* put / create: lines "hexkey hexdata" */
		while (fgets(line, sizeof line, stdin)) {
			char *sp = strchr(line, ' ');
			line[strcspn(line, "\n")] = 0;
			if (!sp) continue;
			*sp = 0;
			k.data = kb; k.size = unhex(line, kb);
			v.data = db; v.size = unhex(sp + 1, db);
			if (d->put(d, &k, &v, R_NOOVERWRITE) < 0) { printf("PUT-FAILED\n"); return 1; }
		}
	}
	if (d->close(d) < 0) { printf("CLOSE-FAILED\n"); return 1; }
	return 0;
}
