#include "harness/core/report/html_player.hpp"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/core/report/state_diagram.hpp"
#include "harness/core/report/svg.hpp"
#include "harness/core/trace/trace_query.hpp"
#include "lastack/tcp_state.hpp"

namespace lastack {

namespace {
using svg::escape;

std::string ms_at(Instant t) {
  const double ms = std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
  return ms >= 1000 ? fmt::format("{:.3f} s", ms / 1000) : fmt::format("{:.1f} ms", ms);
}

std::string change_text(const PlayChange& c) {
  // A band of the same state after another (another socket holding it): no change of state.
  if (c.from == c.to) return fmt::format("{}: still {}", side_name(c.side), state_name(c.to));
  std::string out = fmt::format("{}: {} → {}", side_name(c.side), state_name(c.from), state_name(c.to));
  if (!c.why.empty()) out += fmt::format(" ({})", c.why);
  return out;
}

// Text inside <script type="application/json"> must not close the element.
std::string script_safe(std::string json) {
  for (std::size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at + 3)) json.replace(at, 2, "<\\/");
  return json;
}

std::string play_data(const std::vector<PlayStep>& steps, const std::vector<PageQuestion>& questions) {
  using Json = nlohmann::json;
  Json out{{"steps", Json::array()}, {"start", Json::object()}, {"questions", Json::array()}};
  for (const PlayStep& s : steps) {
    Json changes = Json::array();
    for (const PlayChange& c : s.changes) {
      const std::string_view arrow = diagram_arrow(c.from, c.to);
      changes.push_back({{"side", side_name(c.side)},
                         {"conn", number_of(c.connection).value},
                         {"from", state_name(c.from)},
                         {"to", state_name(c.to)},
                         {"band", c.band == PlayChange::no_band ? Json() : Json(c.band)},
                         {"why", c.why},
                         {"arrow", arrow}});
      if (const std::string side(side_name(c.side)); !out["start"].contains(side)) out["start"][side] = state_name(c.from);
    }
    out["steps"].push_back({{"seg", s.segment ? Json(*s.segment) : Json()}, {"changes", changes}});
  }
  for (const PageQuestion& q : questions)
    out["questions"].push_back({{"before", q.before},
                                {"ask", q.ask},
                                {"quote", q.quote},
                                {"choices", q.choices},
                                {"answer", q.answer},
                                {"correct", q.correct ? Json(*q.correct) : Json()},
                                {"evidence", q.evidence}});
  return script_safe(out.dump(-1, ' ', false, Json::error_handler_t::replace));
}

constexpr std::string_view controls =
    "<div class=\"player\" id=\"player\" hidden>"
    "<button id=\"b-start\" title=\"before the first step (Home)\">start</button>"
    "<button id=\"b-prev\" title=\"previous step (←)\">◀ previous</button>"
    "<button id=\"b-play\" title=\"play or pause (space)\">play</button>"
    "<button id=\"b-next\" title=\"next step (→)\">next ▶</button>"
    "<label>speed <select id=\"speed\"><option value=\"0.5\">0.5×</option><option value=\"1\" selected>1×</option>"
    "<option value=\"2\">2×</option><option value=\"4\">4×</option></select></label>"
    "<button id=\"b-all\" title=\"the whole run at once (End)\">whole run</button>"
    "<span class=\"step-now\">step <b id=\"step-now\"></b></span> <span id=\"step-what\"></span></div>"
    "<section id=\"ask\" class=\"ask\" hidden></section>";

std::string diagrams() {
  std::string out = "<div class=\"diagrams\">";
  for (Side s : {Side::client, Side::server})
    out += fmt::format("<figure>{}<figcaption class=\"diagram-caption\" data-side=\"{}\">{}: RFC 9293's states"
                       "</figcaption></figure>",
                       render_state_diagram(s), side_name(s), side_name(s));
  return out + "</div>";
}

std::string step_items(const std::vector<PlayStep>& steps, const WireIndex& wire) {
  std::string out = "<h2>Steps</h2><ol class=\"steps\">";
  for (std::size_t i = 0; i < steps.size(); ++i)
    out += fmt::format("<li id=\"step-{}\"><a href=\"#step-{}\">{}</a></li>", i + 1, i + 1,
                       escape(step_text(steps[i], wire)));
  return out + "</ol>";
}

// Without script: each question as text, its answer folded away.
std::string question_blocks(const std::vector<PageQuestion>& questions) {
  std::string out;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const PageQuestion& q = questions[i];
    std::string choices;
    for (std::size_t c = 0; c < q.choices.size(); ++c)
      choices += fmt::format("<li{}>{}</li>", q.correct == c ? " class=\"right\"" : "", escape(q.choices[c]));
    out += fmt::format(
        "<section class=\"question\" id=\"question-{}\" data-before=\"{}\" data-answer=\"{}\"{}><h2>Predict, "
        "then see ({}): before <a href=\"#step-{}\">step {}</a></h2>{}<p class=\"ask-text\">{}</p><ol "
        "type=\"A\">{}</ol><details><summary>the kernel's answer</summary><p>{} · {}</p></details></section>",
        i + 1, q.before + 1, escape(q.answer), q.correct ? fmt::format(" data-correct=\"{}\"", *q.correct + 1) : "",
        i + 1, q.before + 1, q.before + 1, q.quote.empty() ? "" : "<blockquote>" + escape(q.quote) + "</blockquote>",
        escape(q.ask), choices, escape(q.answer), escape(q.evidence));
  }
  return out;
}

constexpr std::string_view style = R"(
.player{position:sticky;top:0;z-index:2;background:#eceff1;border:1px solid #b0bec5;padding:6px 8px;margin:8px 0;font-size:15px}
.player button,.player select{font-size:15px;margin-right:4px} .step-now{margin-left:8px} #step-what{color:#37474f;font-size:13px}
.stage{display:flex;align-items:flex-start;gap:12px} .diagrams{position:sticky;top:48px}
.diagrams figure{margin:0 0 6px} .diagram-caption{font-size:13px;color:#37474f;max-width:330px}
svg.diagram{background:#fcfcfc;border:1px solid #ddd;display:block} svg .diagram-side{font-weight:bold;font-size:13px}
svg.diagram .node rect{fill:#eceff1;stroke:#78909c} svg.diagram .node.cur rect{fill:#ffeb3b;stroke:#f57f17;stroke-width:2.5}
svg.diagram .edge line{stroke:#90a4ae;stroke-width:1.2} svg.diagram .edge.last line{stroke:#fb8c00;stroke-width:2}
svg.diagram .edge.taken line{stroke:#e65100;stroke-width:3;filter:drop-shadow(0 0 2px #ff9800)}
svg.ladder .seg.future{opacity:.12} svg.ladder .seg.now .shaft{stroke:#d50000;stroke-width:2.5;filter:drop-shadow(0 0 3px #ff5252)} svg.ladder .seg.now .seg-label{fill:#d50000;font-weight:bold}
svg.ladder rect.band.future{opacity:.1} svg.ladder rect.band.now{stroke:#d50000;stroke-width:2.5}
ol.steps{font-size:13px} ol.steps li.now{background:#fff59d;font-weight:bold} ol.steps li.future{color:#90a4ae}
.question,.ask{border:2px solid #6a1b9a;padding:8px 12px;margin:10px 0;background:#f3e5f5} .ask{position:sticky;top:48px;z-index:3;font-size:18px}
.ask button{font-size:17px;margin:4px 8px 4px 0} .ask .chosen{outline:3px solid #6a1b9a} .ask .right{background:#a5d6a7} .ask .wrong{background:#ef9a9a}
blockquote{margin:4px 0;padding:4px 10px;border-left:4px solid #6a1b9a;background:#fff}
)";

// The player's one script: it reads #play-data and never fetches anything.
constexpr std::string_view script = R"JS(<script>
(function(){
var data=JSON.parse(document.getElementById('play-data').textContent);
var steps=data.steps,qs=data.questions,n=steps.length,all=n,cur=all,timer=null,asked={};
var root=document.documentElement,$=function(id){return document.getElementById(id);};
var segStep={},bandStep={};
steps.forEach(function(s,i){if(s.seg!==null)segStep[s.seg]=i;s.changes.forEach(function(c){if(c.band!==null)bandStep[c.band]=i;});});
var segs=document.querySelectorAll('svg.ladder g.seg'),bands=document.querySelectorAll('svg.ladder rect.band'),items=document.querySelectorAll('ol.steps > li');
function when(i,k){if(k===all||i===undefined)return null;return i<k?'past':i===k?'now':'future';}
function mark(el,c){el.classList.remove('now','past','future');if(c)el.classList.add(c);}
function sideState(side,k){var st=data.start[side]||'CLOSED',ch=null;for(var i=0;i<=Math.min(k,n-1);i++)steps[i].changes.forEach(function(c){if(c.side===side){st=c.to;ch={c:c,step:i};}});return{state:st,change:ch};}
function caption(side,s,edge,k){var t=side+': '+s.state;if(s.change&&s.change.step===k&&s.change.c.from!==s.change.c.to){var c=s.change.c;t=side+': '+c.from+' \u2192 '+c.to+' \u00b7 '+(c.arrow?c.arrow:'no arrow on RFC 9293\'s figure'+(c.why?' ('+c.why+')':''));}return t;}
function diagram(side,k){var svg=document.querySelector('svg.diagram[data-side="'+side+'"]');if(!svg)return;var s=sideState(side,k),edge=null;
svg.querySelectorAll('g.edge').forEach(function(e){e.classList.remove('taken','last');});
if(s.change&&s.change.c.from!==s.change.c.to){edge=svg.querySelector('g.edge[data-from="'+s.change.c.from+'"][data-to="'+s.change.c.to+'"]');if(edge)edge.classList.add(s.change.step===k?'taken':'last');}
svg.querySelectorAll('g.node').forEach(function(nd){var on=edge?nd.getAttribute('data-node')===edge.getAttribute('data-to-node'):nd.getAttribute('data-state')===s.state&&nd.getAttribute('data-node')!=='CLOSED-end';nd.classList.toggle('cur',on);});
svg.setAttribute('data-now',s.state);svg.setAttribute('data-edge',edge&&s.change.step===k?s.change.c.from+'\u2192'+s.change.c.to:'');
var cap=document.querySelector('.diagram-caption[data-side="'+side+'"]');if(cap)cap.textContent=caption(side,s,edge,k);}
function show(k){cur=k<-1?-1:k>all?all:k;
segs.forEach(function(g){mark(g,when(segStep[g.getAttribute('data-seg')],cur));});
bands.forEach(function(r){mark(r,when(bandStep[r.getAttribute('data-band')],cur));});
items.forEach(function(li,i){mark(li,when(i,cur));});
diagram('client',cur);diagram('server',cur);
var seg=cur>=0&&cur<n&&steps[cur].seg!==null?String(steps[cur].seg):'';
root.setAttribute('data-step',cur===all?'all':String(cur+1));root.setAttribute('data-seg',seg);
$('step-now').textContent=cur===all?'whole run':(cur+1)+' / '+n;
$('step-what').textContent=cur===all?'':cur<0?'before the first step':items[cur].textContent;
if(history.replaceState)history.replaceState(null,'',cur===all?location.pathname+location.search:'#step-'+(cur+1));
var g=seg!==''?document.querySelector('svg.ladder g.seg[data-seg="'+seg+'"]'):null;if(g&&g.scrollIntoView){var b=g.getBoundingClientRect();if(b.top<90||b.bottom>innerHeight-10)g.scrollIntoView({block:'center'});}}
function stop(){if(timer){clearInterval(timer);timer=null;}$('b-play').textContent='play';}
function play(){if(timer){stop();return;}if(cur>=n-1)show(-1);timer=setInterval(next,1600/Number($('speed').value));$('b-play').textContent='pause';}
function pending(k){for(var i=0;i<qs.length;i++)if(qs[i].before===k&&!asked[i])return i;return -1;}
function next(){var k=cur===all?0:cur+1;if(k>=n){stop();return;}var q=pending(k);if(q>=0){stop();ask(q);return;}closeAsk();show(k);}
function prev(){closeAsk();show(cur===all?n-1:cur-1);}
function closeAsk(){$('ask').hidden=true;root.removeAttribute('data-asking');}
function el(tag,text,cls){var e=document.createElement(tag);if(text)e.textContent=text;if(cls)e.className=cls;return e;}
function ask(i){var q=qs[i],box=$('ask');asked[i]=true;show(q.before-1);box.textContent='';
if(q.quote)box.appendChild(el('blockquote',q.quote));box.appendChild(el('p',q.ask,'ask-text'));
var reveal=el('p','','reveal'),buttons=[];
q.choices.forEach(function(c,j){var b=el('button',String.fromCharCode(65+j)+'. '+c);b.onclick=function(){buttons.forEach(function(x,m){x.disabled=true;if(m===q.correct)x.classList.add('right');});b.classList.add('chosen');if(j!==q.correct)b.classList.add('wrong');answer(q,reveal,j);};buttons.push(b);box.appendChild(b);});
var skip=el('button','show the kernel\'s answer');skip.onclick=function(){buttons.forEach(function(x,m){x.disabled=true;if(m===q.correct)x.classList.add('right');});answer(q,reveal,-1);};box.appendChild(skip);
box.appendChild(reveal);box.hidden=false;root.setAttribute('data-asking',String(i+1));}
function answer(q,reveal,j){reveal.textContent='The kernel: '+q.answer+(j<0?'':j===q.correct?' \u2014 right.':' \u2014 not what you chose.')+' '+q.evidence+' ';
var go=el('button','see it \u25b6');go.onclick=function(){closeAsk();show(q.before);};reveal.appendChild(go);root.setAttribute('data-answered',q.answer);}
function key(e){if(e.target&&e.target.tagName==='SELECT')return;var k=e.key;
if(k==='ArrowRight'||k==='n'){next();}else if(k==='ArrowLeft'||k==='p'){prev();}else if(k===' '||k==='Spacebar'){play();}else if(k==='Home'){closeAsk();show(-1);}else if(k==='End'){closeAsk();show(all);}else return;e.preventDefault();}
document.addEventListener('keydown',key);
window.addEventListener('hashchange',function(){var h=/^#step-(\d+)$/.exec(location.hash);if(h){closeAsk();show(Number(h[1])-1);}});
$('b-next').onclick=next;$('b-prev').onclick=prev;$('b-play').onclick=play;$('b-start').onclick=function(){closeAsk();show(-1);};$('b-all').onclick=function(){closeAsk();show(all);};
$('speed').onchange=function(){if(timer){stop();play();}};
document.querySelectorAll('section.question').forEach(function(s){s.hidden=true;});
// #step-N is the player's now: the list items give up their ids, so the browser does not scroll to them.
items.forEach(function(li){li.removeAttribute('id');});
$('player').hidden=false;
var h=/^#step-(\d+)$/.exec(location.hash),q=/^#question-(\d+)$/.exec(location.hash);
if(h)show(Number(h[1])-1);else if(q&&qs[Number(q[1])-1])ask(Number(q[1])-1);else show(all);
var keys=/[?&]keys=([^&#]*)/.exec(location.search);
if(keys)decodeURIComponent(keys[1]).split(',').forEach(function(k){if(k)document.dispatchEvent(new KeyboardEvent('keydown',{key:k==='Space'?' ':k}));});
root.setAttribute('data-player','ready');
})();
</script>)JS";
}  // namespace

std::string_view player_style() { return style; }

std::string step_text(const PlayStep& step, const WireIndex& wire) {
  std::string out = ms_at(step.at);
  if (step.segment) {
    const WireEvent& w = *wire.events[*step.segment];
    out += fmt::format(" · {} → {} {} seq {}", side_name(w.info.from), side_name(peer_of(w.info.from)),
                       w.segment.flags.tcpdump(), w.info.rel_seq);
    if (w.segment.flags.ack()) out += fmt::format(" ack {}", w.info.rel_ack);
    out += fmt::format(" len {}", w.segment.payload_len);
    if (!w.info.roles.empty()) out += fmt::format(" ({})", w.info.roles.str());
    if (!delivered(w)) out += fmt::format(" · {}", w.note.empty() ? std::string(fate_name(w.fate)) : w.note);
  }
  for (const PlayChange& c : step.changes) out += " · " + change_text(c);
  return out;
}

std::string render_player(const std::string& ladder_svg, const std::vector<PlayStep>& steps, const WireIndex& wire,
                          const std::vector<PageQuestion>& questions) {
  std::string out(controls);
  out += question_blocks(questions);
  out += "<div class=\"stage\"><div class=\"ladder-wrap\">" + ladder_svg + "</div>" + diagrams() + "</div>";
  out += step_items(steps, wire);
  out += "<script type=\"application/json\" id=\"play-data\">" + play_data(steps, questions) + "</script>";
  out += script;
  return out;
}

}  // namespace lastack
