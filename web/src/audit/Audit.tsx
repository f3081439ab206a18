/** 監査: this area's screens. */
import type { AreaProps } from '../areas.js';

export function Audit(_props: AreaProps) {
  return (
    <section>
      <h1>監査</h1>
      <p>この画面は準備中です。</p>
    </section>
  );
}
