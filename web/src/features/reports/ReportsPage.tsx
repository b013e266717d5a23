import NotFound from "../../app/NotFound";

export default function Page() {
  return <NotFound />;
}
