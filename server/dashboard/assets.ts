/** The dashboard's files, served by the service (kept as strings so every build format has them). */
export const dashboardAssets: Record<string, { type: string; body: string }> = {
  '/': {
    type: 'text/html; charset=utf-8',
    body: '<!doctype html><html><head><meta charset="utf-8"><title>strategy-lifecycle</title></head><body><h1>strategy-lifecycle</h1></body></html>',
  },
};
