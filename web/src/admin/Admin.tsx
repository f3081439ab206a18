/** 職員管理: this area's screens. */
import type { AreaProps } from '../areas.js';

export function Admin(_props: AreaProps) {
  return (
    <section>
      <h1>職員管理</h1>
      <p>この画面は準備中です。</p>
    </section>
  );
}
