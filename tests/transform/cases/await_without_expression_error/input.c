void f(void)
{
    await;
    int x = await ;
    g(await);
}
