import { lazy, type ComponentType } from "react";

/**
 * A route component loaded on first use. Pages are named exports; React.lazy wants a default.
 * A chunk that fails to load after a deployment (its hash changed) reloads the page once, so the
 * visitor gets the new index.html instead of a blank screen.
 */
export function lazyPage<M extends Record<string, unknown>, K extends keyof M & string>(
  load: () => Promise<M>,
  name: K,
): ComponentType {
  return lazy(async () => {
    try {
      const module = await load();
      sessionStorage.removeItem("trellis.chunk-reload");
      return { default: module[name] as ComponentType };
    } catch (error) {
      if (!sessionStorage.getItem("trellis.chunk-reload")) {
        sessionStorage.setItem("trellis.chunk-reload", "1");
        window.location.reload();
      }
      throw error;
    }
  });
}
