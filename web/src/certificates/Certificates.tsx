/** 証明書発行: this area's screens. */
import type { AreaProps } from '../areas.js';

export function Certificates(_props: AreaProps) {
  return (
    <section>
      <h1>証明書発行</h1>
      <p>この画面は準備中です。</p>
    </section>
  );
}
