#include <unasync/async.h>

%:define N 2
async int get(void);
async int sum(void)
<%
    int v<:N:> = <% 1, 2 %>;
    return v<:0:> + await get();
%>
