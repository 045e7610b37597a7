import { createUnplugin } from "unplugin";
import { unpluginFactory } from "./unplugin.js";

export default createUnplugin(unpluginFactory).rspack;
