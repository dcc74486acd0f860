/*
 * The committed generation, published for readers that poll.
 *
 * Why: a server must see an import at its very next request, and asking the
 * file system whether DIR/ledger was replaced (a stat(2) per request) cost
 * 15 % of the answers a polling dashboard gets (304s). So each commit, after
 * renaming the new ledger into place, writes the generation number into
 * DIR/generation -- in place, never replaced -- and readers map that file
 * once and read the number from memory: the page cache is shared, so the
 * write is visible as soon as pwrite returns, before the importer exits. A
 * reader that sees another number reloads the ledger, which is always
 * whole. A writer killed between the rename and the write only delays what
 * readers see until store_changed's stat, once a second (view.c).
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void store_publish_generation(const struct store *st, uint64_t g)
{
    char *path = store_path_join(st->dir, "generation");
    int fd = path != NULL ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666) : -1;
    free(path);
    if (fd < 0)
        return;
    while (pwrite(fd, &g, sizeof g, 0) < 0 && errno == EINTR)
        ;
    close(fd);
}

void store_map_generation(struct store *st)
{
    if (atomic_load(&st->generation_map) != NULL)
        return;
    char *path = store_path_join(st->dir, "generation");
    int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    if (fd < 0)
        return;
    struct stat sb;
    void *m = fstat(fd, &sb) == 0 && sb.st_size >= (off_t)sizeof(uint64_t)
                  ? mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0)
                  : MAP_FAILED;
    close(fd); /* the mapping stays */
    if (m == MAP_FAILED)
        return;
    const volatile uint64_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&st->generation_map, &expected, m))
        munmap(m, sizeof(uint64_t)); /* another thread mapped it first */
}
