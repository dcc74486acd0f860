/* The kpi binary (placeholder while the command table is written). */
#include <stdio.h>

int main(void)
{
    fputs("kpi: not built yet\n", stderr);
    return 3;
}
